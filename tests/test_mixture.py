"""The mixture mathematics: a fit equals scikit-learn's own, and stored parameters score
exactly as the fitted estimator does."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from python_udfs.mixture import (
    FITS_SCHEMA,
    MixtureRun,
    align_components,
    fit_mixture,
    fit_mixtures,
    fits_table,
    mixture_from_fits_row,
    refit_stability,
    sample_rows,
    scan_components,
    to_full_matrices,
    to_native,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Three well-separated Gaussian blobs in 4 dimensions, fixed seed."""
    rng = np.random.default_rng(7)
    centres = np.array([[0, 0, 0, 0], [3, 3, 0, 1], [0, 4, 4, -2]], dtype=float)
    return np.vstack([rng.normal(centre, 0.5, size=(300, 4)) for centre in centres])


def test_run_from_config_passes_extra_options_to_the_estimator():
    run = MixtureRun.from_config(
        {"run_id": "r", "feature_set": "s", "n_components": 3, "max_iter": 7, "tol": 1e-4}
    )
    assert run.options == {"max_iter": 7, "tol": 1e-4}
    params = run.estimator().get_params()
    assert (params["max_iter"], params["tol"], params["random_state"]) == (7, 1e-4, 42)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_equals_a_direct_scikit_learn_fit(blobs, covariance_type):
    run = MixtureRun("r", "s", n_components=3, covariance_type=covariance_type, random_state=3)
    fitted = fit_mixture(blobs, ("a", "b", "c", "d"), run)
    direct = GaussianMixture(3, covariance_type=covariance_type, random_state=3).fit(blobs)

    np.testing.assert_array_equal(fitted.estimator.weights_, direct.weights_)
    np.testing.assert_array_equal(fitted.estimator.means_, direct.means_)
    np.testing.assert_array_equal(fitted.estimator.covariances_, direct.covariances_)
    np.testing.assert_array_equal(
        fitted.estimator.predict_proba(blobs), direct.predict_proba(blobs)
    )
    assert fitted.bic == direct.bic(blobs)
    assert fitted.aic == direct.aic(blobs)
    assert fitted.n_detections == 900


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_full_matrices_round_trip_to_sklearn_shapes(blobs, covariance_type):
    estimator = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(blobs)
    for native in (estimator.covariances_, estimator.precisions_cholesky_):
        full = to_full_matrices(covariance_type, native, 3, 4)
        assert full.shape == (3, 4, 4)
        np.testing.assert_array_equal(to_native(covariance_type, full), native)
    # The full covariance matrices are the ones sklearn's own full type would hold.
    full = to_full_matrices(covariance_type, estimator.covariances_, 3, 4)
    for component in range(3):
        assert np.allclose(full[component], full[component].T)
        assert np.all(np.linalg.eigvalsh(full[component]) > 0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_stored_parameters_score_exactly_as_the_fit(blobs, covariance_type):
    run = MixtureRun("r", "s", n_components=3, covariance_type=covariance_type)
    fitted = fit_mixture(blobs, ("a", "b", "c", "d"), run)
    table = fits_table([fitted])
    assert table.schema == FITS_SCHEMA

    rebuilt = mixture_from_fits_row(table.to_pylist()[0])
    new_detections = np.random.default_rng(1).normal(1.5, 2.0, size=(50, 4))
    for matrix in (blobs, new_detections):
        np.testing.assert_array_equal(
            rebuilt.predict_proba(matrix), fitted.estimator.predict_proba(matrix)
        )
        np.testing.assert_array_equal(
            rebuilt.score_samples(matrix), fitted.estimator.score_samples(matrix)
        )
    np.testing.assert_allclose(rebuilt.precisions_, fitted.estimator.precisions_, rtol=1e-12)


def test_fits_table_records_the_run(blobs):
    run = MixtureRun("gmm3_test", "s", n_components=3, random_state=5, options={"max_iter": 50})
    row = fits_table([fit_mixture(blobs, ("a", "b", "c", "d"), run)]).to_pylist()[0]
    assert row["run_id"] == "gmm3_test"
    assert row["feature_names"] == ["a", "b", "c", "d"]
    assert (row["n_components"], row["random_state"], row["covariance_type"]) == (3, 5, "full")
    assert '"max_iter": 50' in row["estimator_params"]
    assert row["converged"] is True
    assert len(row["weights"]) == 3 and abs(sum(row["weights"]) - 1) < 1e-12


def test_parallel_fits_equal_one_thread_fits_in_the_configured_order(blobs):
    runs = [MixtureRun(f"gmm{k}", "s", k, random_state=k) for k in (2, 5, 3)]
    fitted = fit_mixtures({"s": blobs}, {"s": ("a", "b", "c", "d")}, runs, workers=2)
    assert [fit.run.run_id for fit in fitted] == ["gmm2", "gmm5", "gmm3"]
    for fit in fitted:
        with threadpool_limits(limits=1):
            direct = GaussianMixture(fit.run.n_components, random_state=fit.run.random_state)
            direct.fit(blobs)
        np.testing.assert_array_equal(fit.estimator.means_, direct.means_)
        np.testing.assert_array_equal(fit.estimator.covariances_, direct.covariances_)


def test_alignment_undoes_a_permutation_of_the_reference():
    reference = np.repeat([0, 1, 2, 3], [40, 30, 20, 10])
    permutation = np.array([2, 0, 3, 1])
    assert align_components(permutation[reference], reference, 4) == {2: 0, 0: 1, 3: 2, 1: 3}


def test_alignment_gives_leftover_and_empty_components_the_free_labels_largest_first():
    reference = np.repeat([0, 1], [50, 50])
    # Five components: 3 and 0 carry the reference's two clusters, 1 is larger than 4,
    # and component 2 is nobody's most probable component.
    labels = np.concatenate(
        [np.full(45, 3), np.full(5, 1), np.full(40, 0), np.full(7, 1), np.full(3, 4)]
    )
    aligned = align_components(labels, reference, 5)
    assert aligned[3] == 0 and aligned[0] == 1
    assert (aligned[1], aligned[4], aligned[2]) == (2, 3, 4)
    assert sorted(aligned.values()) == [0, 1, 2, 3, 4]


def test_refits_of_separated_blobs_are_stable(blobs):
    run = MixtureRun("gmm3", "s", 3, random_state=0)
    [fit] = fit_mixtures({"s": blobs}, {"s": ()}, [run])
    refits = refit_stability({"s": blobs}, [run], {"gmm3": fit.labels}, seeds=[1, 2])
    assert [refit.seed for refit in refits] == [1, 2]
    for refit in refits:
        assert refit.adjusted_rand_index == pytest.approx(1.0)
        assert refit.aligned_agreement == 1.0


def test_silhouette_is_scikit_learns_on_the_sample(blobs):
    sample = sample_rows(len(blobs), 200, seed=4)
    assert len(sample) == 200 and np.all(np.diff(sample) > 0)
    np.testing.assert_array_equal(sample, sample_rows(len(blobs), 200, seed=4))
    fit = fit_mixture(blobs, ("a", "b", "c", "d"), MixtureRun("r", "s", 3), sample)
    assert fit.silhouette == silhouette_score(blobs[sample], fit.labels[sample])
    assert fit.silhouette_sample_size == 200
    np.testing.assert_array_equal(sample_rows(50, 200, seed=4), np.arange(50))


def test_scan_fits_every_k_and_seed_on_one_sample(blobs):
    table = scan_components(blobs, "s", "full", range(2, 5), [0, 1], 500, 3).to_pylist()
    assert [(row["k"], row["seed"]) for row in table] == [
        (2, 0),
        (2, 1),
        (3, 0),
        (3, 1),
        (4, 0),
        (4, 1),
    ]
    assert {row["n_detections"] for row in table} == {500}
    sample = blobs[sample_rows(len(blobs), 500, 3)]
    with threadpool_limits(limits=1):
        direct = GaussianMixture(3, random_state=1).fit(sample)
    assert table[3]["bic"] == direct.bic(sample)
    # Three blobs: BIC prefers k = 3 to k = 2.
    assert min(table, key=lambda row: row["bic"])["k"] >= 3
