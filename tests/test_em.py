"""The chunked EM kernel (clustering/em.py) fits and scores as scikit-learn does.

Equality is measured by clustering.em.fit_differences: per component,
max |kernel - sklearn| / max |sklearn|, the largest over components.
"""

from __future__ import annotations

import tracemalloc
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from clustering.em import (
    MEMORY_BUDGET,
    feature_count,
    fit_differences,
    fit_gaussian_mixture,
    kernel_is_faster,
    score_samples_and_probabilities,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED_ATTRIBUTES = [
    "weights_",
    "means_",
    "covariances_",
    "precisions_cholesky_",
    "precisions_",
    "converged_",
    "n_iter_",
    "lower_bound_",
    "lower_bounds_",
    "n_features_in_",
]


def allvar_matrix(warehouse: Path) -> np.ndarray:
    """The allvar feature matrix of a built warehouse, one row per detection in id order."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select features from intermediate.int_feature_vectors where feature_set = 'allvar' "
            "order by detection_id"
        ).fetchnumpy()["features"]
    return np.array(rows.tolist())


@pytest.fixture(autouse=True)
def one_core():
    """BLAS on one thread, as the warehouse fits: faster here than two busy cores."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def demo_allvar(demo_warehouse) -> np.ndarray:
    return allvar_matrix(demo_warehouse)


@pytest.fixture(scope="module")
def real_allvar(real_sample_warehouse) -> np.ndarray:
    return allvar_matrix(real_sample_warehouse)


def fit_both(X: np.ndarray, **params) -> tuple[GaussianMixture, GaussianMixture]:
    """(kernel fit, direct sklearn fit) of the same estimator; the kernel's, not its fallback."""
    assert kernel_is_faster(*X.shape, params["n_components"])
    params = {"random_state": 42, **params}
    reference = GaussianMixture(**params).fit(X)
    return fit_gaussian_mixture(X, GaussianMixture(**params)), reference


def assert_equal_fits(fitted: GaussianMixture, reference: GaussianMixture, X: np.ndarray):
    differences = fit_differences(fitted, reference, X)
    assert differences["same_n_iter"], (fitted.n_iter_, reference.n_iter_)
    assert fitted.converged_ == reference.converged_
    assert differences["lower_bound"] < 1e-9, differences
    np.testing.assert_allclose(fitted.lower_bounds_, reference.lower_bounds_, rtol=1e-9)
    for name in ("weights", "means", "covariances", "precisions"):
        assert differences[name] < 1e-8, differences
    assert differences["differing_beyond_ties"] == 0, differences
    # Every attribute sklearn sets, in sklearn's types: storage, BIC and AIC work unchanged.
    for attribute in FITTED_ATTRIBUTES:
        got, want = getattr(fitted, attribute), getattr(reference, attribute)
        assert type(got) is type(want), attribute
        assert np.shape(got) == np.shape(want), attribute
    np.testing.assert_allclose(fitted.bic(X), reference.bic(X), rtol=1e-9)
    np.testing.assert_allclose(fitted.aic(X), reference.aic(X), rtol=1e-9)
    return differences


@pytest.mark.parametrize(
    ("n_components", "row_step"),
    # k = 6 on all 22,460 demo detections; larger k on every 4th or 6th, for time.
    [(6, 1), (8, 4), (10, 4), (20, 6)],
)
def test_fit_equals_scikit_learn_on_the_demo(demo_allvar, n_components, row_step):
    X = demo_allvar[::row_step]
    fitted, reference = fit_both(X, n_components=n_components)
    assert_equal_fits(fitted, reference, X)


@pytest.mark.parametrize("n_components", [6, 20])
def test_fit_equals_scikit_learn_on_the_real_sample(real_allvar, n_components):
    fitted, reference = fit_both(real_allvar, n_components=n_components)
    assert_equal_fits(fitted, reference, real_allvar)


def blobs_and_duplicates(offset: float, n_features: int = 4, seed: int = 0) -> np.ndarray:
    """Three unit Gaussian blobs, and 5 copies of one point `offset` away in every feature."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((3, n_features))
    centres[1], centres[2, 0] = 3.0, -3.0
    blobs = [rng.normal(centre, 1.0, (400, n_features)) for centre in centres]
    return np.vstack([*blobs, np.full((5, n_features), offset)])


@pytest.mark.parametrize("reg_covar", [1e-6, 1e-3])
# At 1000, W . phi would lose ~1e-4 of the collapsed component's log-density: it is
# computed directly instead.
@pytest.mark.parametrize("offset", [10.0, 1000.0])
def test_a_component_collapsing_onto_a_few_points_equals_scikit_learn(offset, reg_covar):
    X = blobs_and_duplicates(offset)
    fitted, reference = fit_both(X, n_components=4, reg_covar=reg_covar, random_state=0)
    assert_equal_fits(fitted, reference, X)
    # The collapsed component's covariance is reg_covar I: reg_covar decides the fit.
    collapsed = np.argmin(fitted.weights_)
    np.testing.assert_allclose(
        fitted.covariances_[collapsed], reg_covar * np.eye(4), rtol=1e-6, atol=1e-12
    )


def collapsing_start(offset: float, reg_covar: float) -> tuple[np.ndarray, dict]:
    """A blob, 4 copies of one point, and a given start: EM collapses component 1 onto them."""
    rng = np.random.default_rng(2)
    blob = rng.normal(0, 1, (400, 3))
    duplicates = np.tile(rng.normal(offset, 1, 3), (4, 1))
    params = {
        "n_components": 2,
        "reg_covar": reg_covar,
        "weights_init": [0.9, 0.1],
        "means_init": np.vstack([np.zeros(3), duplicates[0] + 0.5]),
        "precisions_init": np.stack([np.eye(3), 4 * np.eye(3)]),
    }
    return np.vstack([blob, duplicates]), params


def test_a_covariance_that_is_not_positive_definite_raises_scikit_learns_error():
    X, params = collapsing_start(offset=30.0, reg_covar=0.0)
    with pytest.raises(ValueError) as direct:
        GaussianMixture(**params).fit(X)
    with pytest.raises(ValueError) as kernel:
        fit_gaussian_mixture(X, GaussianMixture(**params))
    assert str(kernel.value) == str(direct.value)


def test_a_one_pass_covariance_that_cancels_below_zero_is_redone_as_scikit_learn_does():
    # reg_covar 1e-16 is below the one-pass covariance's rounding at offset 10: the M-step
    # is recomputed two-pass, and positive definite as sklearn's.
    X, params = collapsing_start(offset=10.0, reg_covar=1e-16)
    fitted, reference = fit_both(X, **params)
    assert_equal_fits(fitted, reference, X)


@pytest.mark.parametrize(
    "params",
    [
        {"n_init": 3, "random_state": 1},
        {"init_params": "k-means++"},
        {"init_params": "random"},
        {"init_params": "random_from_data"},
        {"tol": 1e-6},
        {"reg_covar": 1e-3},
        {"max_iter": 4},
    ],
)
def test_scikit_learns_options_are_honoured(demo_allvar, params):
    X = demo_allvar[::10]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fitted, reference = fit_both(X, n_components=6, **params)
    warned = [warning.category for warning in caught]
    assert warned.count(ConvergenceWarning) == (0 if reference.converged_ else 2)
    assert_equal_fits(fitted, reference, X)


def test_given_initial_parameters_and_warm_start_are_honoured(demo_allvar):
    X = demo_allvar[::10]
    start = GaussianMixture(6, random_state=0).fit(X)
    given = {"weights_init": start.weights_, "means_init": start.means_ + 0.01}
    fitted, reference = fit_both(X, n_components=6, precisions_init=start.precisions_, **given)
    assert_equal_fits(fitted, reference, X)

    warm = {"n_components": 6, "warm_start": True, "max_iter": 3, "random_state": 0}
    reference, fitted = GaussianMixture(**warm), GaussianMixture(**warm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            reference.fit(X)
            fit_gaussian_mixture(X, fitted)
    assert_equal_fits(fitted, reference, X)


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_other_covariance_types_are_scikit_learns_own_fit(demo_allvar, covariance_type):
    X = demo_allvar[::10]
    params = {"n_components": 6, "covariance_type": covariance_type, "random_state": 0}
    fitted = fit_gaussian_mixture(X, GaussianMixture(**params))
    reference = GaussianMixture(**params).fit(X)
    np.testing.assert_array_equal(fitted.means_, reference.means_)
    np.testing.assert_array_equal(fitted.covariances_, reference.covariances_)


def test_float32_data_is_fitted_by_scikit_learn_in_float32(demo_allvar):
    X = demo_allvar[::10].astype(np.float32)
    fitted = fit_gaussian_mixture(X, GaussianMixture(6, random_state=0))
    reference = GaussianMixture(6, random_state=0).fit(X)
    assert fitted.means_.dtype == np.float32
    np.testing.assert_array_equal(fitted.means_, reference.means_)


def test_the_fit_is_bit_identical_whatever_the_number_of_threads(demo_allvar):
    X = demo_allvar[::5]
    fits = [
        fit_gaussian_mixture(X, GaussianMixture(6, random_state=3), chunk_rows=256, threads=n)
        for n in (1, 2, 3)
    ]
    for fit in fits[1:]:
        assert fit.n_iter_ == fits[0].n_iter_
        assert fit.lower_bounds_ == fits[0].lower_bounds_
        for attribute in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            np.testing.assert_array_equal(getattr(fit, attribute), getattr(fits[0], attribute))


@pytest.mark.parametrize("memory_budget", [0, MEMORY_BUDGET])
def test_memory_is_bounded_by_the_chunk_or_the_budget(memory_budget):
    n_samples, n_features, n_components, chunk_rows = 30_000, 35, 6, 512
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (n_samples, n_features))
    # Given initial parameters: no k-means (sklearn's own init holds O(n (d + k))).
    given = {
        "weights_init": np.full(n_components, 1 / n_components),
        "means_init": rng.uniform(0.3, 0.7, (n_components, n_features)),
        "precisions_init": np.stack([np.eye(n_features) * 12] * n_components),
    }
    estimator = GaussianMixture(n_components, max_iter=2, **given)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_gaussian_mixture(X, estimator, chunk_rows=chunk_rows, memory_budget=memory_budget)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    all_features = 8 * n_samples * feature_count(n_features)  # 160 MB
    chunk_bytes = 8 * chunk_rows * (feature_count(n_features) + n_features)  # 2.9 MB
    kept = all_features if all_features <= memory_budget else 0
    assert peak < kept + 3 * chunk_bytes


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scoring_equals_predict_proba_and_score_samples(demo_allvar, covariance_type):
    X = demo_allvar[::4]
    mixture = GaussianMixture(6, covariance_type=covariance_type, random_state=0).fit(X[::3])
    probabilities, log_likelihood = score_samples_and_probabilities(mixture, X, chunk_rows=1000)
    np.testing.assert_allclose(probabilities, mixture.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(log_likelihood, mixture.score_samples(X), rtol=1e-12)


def test_the_kernel_is_used_where_it_is_faster(demo_allvar):
    assert kernel_is_faster(22_460, 35, 6) and kernel_is_faster(22_460, 35, 20)
    assert kernel_is_faster(1_000, 4, 1)
    assert not kernel_is_faster(22_460, 35, 1)  # phi's 666 columns for one component
    assert not kernel_is_faster(300, 35, 10)  # 30 rows a component in 35 dimensions
    # Where it is not, the fit is scikit-learn's own.
    X = demo_allvar[::10]
    fitted = fit_gaussian_mixture(X, GaussianMixture(1, random_state=0))
    np.testing.assert_array_equal(fitted.covariances_, GaussianMixture(1).fit(X).covariances_)
