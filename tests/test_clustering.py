"""The clustering package: a fit equals scikit-learn's own, stored parameters score exactly
as the fitted estimator does, the scheduler fits every kind of fit side by side with one
BLAS thread each, and refits are compared with their runs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_info, threadpool_limits

from clustering import fitting, threads
from clustering.alignment import align_components
from clustering.em import fit_differences
from clustering.fitting import fit_mixture, sample_rows
from clustering.runs import MixtureRun
from clustering.schedule import FitTask, fit_all, plan_fits
from clustering.silhouette import silhouette
from clustering.stability import compare_with_run
from clustering.storage import (
    FITS_SCHEMA,
    fits_table,
    mixture_from_stored_row,
    to_full_matrices,
    to_native,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
COMPARISON = {
    "silhouette_max_detections": 200,
    "silhouette_sample_seed": 4,
    "stability_seeds": [1],
    "stability_max_detections": 300,
    "stability_sample_seed": 5,
}
SCAN = {
    "feature_set": "s",
    "covariance_type": "full",
    "k_min": 2,
    "k_max": 4,
    "seeds": [0, 1],
    "max_detections": 500,
    "sample_seed": 3,
}


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Three well-separated Gaussian blobs in 4 dimensions, fixed seed."""
    rng = np.random.default_rng(7)
    centres = np.array([[0, 0, 0, 0], [3, 3, 0, 1], [0, 4, 4, -2]], dtype=float)
    return np.vstack([rng.normal(centre, 0.5, size=(300, 4)) for centre in centres])


def direct_fit(matrix: np.ndarray, run: MixtureRun) -> GaussianMixture:
    with threadpool_limits(limits=1):
        return run.estimator().fit(matrix)


def assert_same_fit(fitted: GaussianMixture, direct: GaussianMixture, matrix: np.ndarray):
    """The EM kernel's equality with scikit-learn (clustering.em): the same iterations and
    assignments, parameters within 1e-8 and the lower bound within 1e-9, relative."""
    assert fitted.n_iter_ == direct.n_iter_
    differences = fit_differences(fitted, direct, matrix)
    assert differences["lower_bound"] < 1e-9
    for name in ("weights", "means", "precisions"):
        assert differences[name] < 1e-8, name
    assert differences["differing_beyond_ties"] == 0


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
    fitted = fit_mixture(blobs, run)
    direct = GaussianMixture(3, covariance_type=covariance_type, random_state=3).fit(blobs)

    if covariance_type == "full":
        assert_same_fit(fitted.estimator, direct, blobs)
    else:  # scikit-learn's own fit
        np.testing.assert_array_equal(fitted.estimator.covariances_, direct.covariances_)
    assert fitted.bic == pytest.approx(direct.bic(blobs), rel=1e-12)
    assert fitted.aic == pytest.approx(direct.aic(blobs), rel=1e-12)
    np.testing.assert_array_equal(fitted.labels, direct.predict(blobs))
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
    [outcome] = fit_all([FitTask("run", run)], {"s": blobs})
    table = fits_table([outcome], {"s": ("a", "b", "c", "d")})
    assert table.schema == FITS_SCHEMA

    rebuilt = mixture_from_stored_row(table.to_pylist()[0])
    fitted = outcome.fitted.estimator
    new_detections = np.random.default_rng(1).normal(1.5, 2.0, size=(50, 4))
    for matrix in (blobs, new_detections):
        np.testing.assert_array_equal(rebuilt.predict_proba(matrix), fitted.predict_proba(matrix))
        np.testing.assert_array_equal(rebuilt.score_samples(matrix), fitted.score_samples(matrix))
    np.testing.assert_allclose(rebuilt.precisions_, fitted.precisions_, rtol=1e-12)


def test_plan_has_every_run_its_refits_and_the_scan_on_one_sample():
    runs = [MixtureRun("gmm3", "s", 3), MixtureRun("gmm2", "s", 2, options={"max_iter": 50})]
    tasks, skipped = plan_fits(runs, {**COMPARISON, "stability_seeds": [1, 2]}, SCAN, {"s": 900})
    assert skipped == []
    assert [(task.kind, task.fit_id) for task in tasks] == [
        ("run", "gmm3"),
        ("run", "gmm2"),
        ("refit", "gmm3@1"),
        ("refit", "gmm3@2"),
        ("refit", "gmm2@1"),
        ("refit", "gmm2@2"),
        *[("scan", f"scan_s_k{k}@{seed}") for k in (2, 3, 4) for seed in (0, 1)],
    ]
    refit = tasks[4]
    assert (refit.compared_with, refit.run.random_state, refit.run.options) == (
        "gmm2",
        1,
        {"max_iter": 50},
    )
    assert refit.silhouette_rows is None
    # every refit of the feature set fits its one stability sample
    refit_rows = {task.rows.tobytes() for task in tasks if task.kind == "refit"}
    assert refit_rows == {sample_rows(900, 300, 5).tobytes()}
    np.testing.assert_array_equal(tasks[0].silhouette_rows, sample_rows(900, 200, 4))
    scan_rows = {task.rows.tobytes() for task in tasks if task.kind == "scan"}
    assert scan_rows == {sample_rows(900, 500, 3).tobytes()}


def test_fits_the_data_cannot_support_are_skipped_with_their_reason():
    runs = [MixtureRun("gmm3", "s", 3), MixtureRun("gmm6", "s", 6), MixtureRun("gmm2_t", "t", 2)]
    scan = {**SCAN, "k_min": 3, "k_max": 6, "seeds": [0]}
    unusable = {"t": "no detection has a value of theta"}
    tasks, skipped = plan_fits(runs, COMPARISON, scan, {"s": 5, "t": 0}, unusable)
    assert [task.fit_id for task in tasks] == [
        "gmm3",
        "gmm3@1",
        *(f"scan_s_k{k}@0" for k in (3, 4, 5)),
    ]
    assert [(skip.kind, skip.run.run_id, skip.reason) for skip in skipped] == [
        ("run", "gmm6", "feature set s has 5 usable detection(s), fewer than the 6 components"),
        ("run", "gmm2_t", "feature set t: no detection has a value of theta"),
        ("scan", "k6@0", "feature set s has 5 usable detection(s), fewer than the 6 components"),
    ]
    rows = fits_table([], {"s": ("a",), "t": ("theta",)}, skipped).to_pylist()
    assert [(row["fit_id"], row["run_id"], row["converged"]) for row in rows] == [
        ("gmm6", "gmm6", None),
        ("gmm2_t", "gmm2_t", None),
        ("scan_s_k6@0", None, None),
    ]


def test_the_silhouette_is_left_out_when_every_detection_is_its_own_cluster():
    matrix = np.random.default_rng(0).normal(size=(4, 2))
    fit = fit_mixture(matrix, MixtureRun("r", "s", 4), np.arange(4))
    assert fit.silhouette is None


def test_every_fit_equals_a_one_thread_fit_in_the_order_given(blobs):
    runs = [MixtureRun(f"gmm{k}", "s", k, random_state=k) for k in (2, 5, 3)]
    tasks, _ = plan_fits(runs, COMPARISON, SCAN, {"s": len(blobs)})
    outcomes = fit_all(tasks, {"s": blobs}, workers=2)
    assert [outcome.task for outcome in outcomes] == tasks
    assert {outcome.worker for outcome in outcomes} == {0, 1}
    for outcome in outcomes:
        matrix = blobs if outcome.task.rows is None else blobs[outcome.task.rows]
        assert_same_fit(outcome.fitted.estimator, direct_fit(matrix, outcome.task.run), matrix)
        assert outcome.fitted.fit_seconds > 0
    scan = [outcome for outcome in outcomes if outcome.task.kind == "scan"]
    assert {outcome.fitted.n_detections for outcome in scan} == {500}
    # Three blobs: BIC prefers k = 3 to k = 2.
    assert min(scan, key=lambda outcome: outcome.fitted.bic).task.run.n_components >= 3


def test_fits_start_largest_first(blobs, monkeypatch):
    started = []
    real_fit = fitting.fit_mixture

    def recording_fit(matrix, run, silhouette_sample=None, threads=1):
        started.append(run.run_id)
        return real_fit(matrix, run, silhouette_sample, threads)

    monkeypatch.setattr("clustering.schedule.fit_mixture", recording_fit)
    tasks = [FitTask("run", MixtureRun(f"gmm{k}", "s", k)) for k in (2, 6, 4)]
    fit_all(tasks, {"s": blobs}, workers=1)
    assert started == ["gmm6", "gmm4", "gmm2"]


def test_refits_are_compared_with_their_runs(blobs):
    run = MixtureRun("gmm3", "s", 3, random_state=0)
    outcomes = fit_all(
        [FitTask("run", run), FitTask("refit", run.reseeded(1), compared_with="gmm3")],
        {"s": blobs},
    )
    run_labels, refit_labels = (outcome.fitted.labels for outcome in outcomes)
    assert outcomes[0].adjusted_rand_index is None
    assert outcomes[1].adjusted_rand_index == adjusted_rand_score(run_labels, refit_labels)
    # Separated blobs: the refit finds the same partition, whatever its numbering.
    assert outcomes[1].adjusted_rand_index == pytest.approx(1.0)
    assert outcomes[1].aligned_agreement == 1.0


def test_a_refit_on_a_sample_is_compared_with_the_run_on_those_detections(blobs):
    run = MixtureRun("gmm3", "s", 3, random_state=0)
    sample = sample_rows(len(blobs), len(blobs) // 3, 7)
    refit = FitTask("refit", run.reseeded(1), rows=sample, compared_with="gmm3")
    outcomes = fit_all([FitTask("run", run), refit], {"s": blobs})
    run_labels, refit_labels = (outcome.fitted.labels for outcome in outcomes)
    assert outcomes[1].fitted.n_detections == len(sample) == len(refit_labels)
    ari, agreement = compare_with_run(refit_labels, run_labels[sample], 3)
    assert (outcomes[1].adjusted_rand_index, outcomes[1].aligned_agreement) == (ari, agreement)
    assert agreement == 1.0


def test_aligned_agreement_counts_detections_whose_aligned_cluster_is_the_runs():
    run_labels = np.repeat([0, 1, 2], 10)
    # The refit numbers the clusters 2, 0, 1 and moves three detections of cluster 0.
    refit_labels = np.concatenate([np.full(7, 2), np.full(3, 0), np.full(10, 0), np.full(10, 1)])
    ari, agreement = compare_with_run(refit_labels, run_labels, 3)
    assert agreement == 27 / 30
    assert ari == adjusted_rand_score(run_labels, refit_labels)


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


def test_silhouette_is_scikit_learns_on_the_sample(blobs):
    sample = sample_rows(len(blobs), 200, seed=4)
    assert len(sample) == 200 and np.all(np.diff(sample) > 0)
    np.testing.assert_array_equal(sample, sample_rows(len(blobs), 200, seed=4))
    fit = fit_mixture(blobs, MixtureRun("r", "s", 3), sample)
    assert fit.silhouette == pytest.approx(
        silhouette_score(blobs[sample], fit.labels[sample]), rel=1e-12
    )
    assert fit.silhouette_sample_size == 200
    np.testing.assert_array_equal(sample_rows(50, 200, seed=4), np.arange(50))


@pytest.mark.parametrize("n_clusters", [2, 7, 40])
def test_the_silhouette_equals_scikit_learns_with_singletons_and_many_chunks(n_clusters):
    rng = np.random.default_rng(n_clusters)
    matrix = rng.normal(size=(700, 5))  # several chunks of clustering.silhouette
    labels = rng.integers(0, n_clusters, size=700)
    labels[:3] = n_clusters  # a cluster of three
    labels[3] = n_clusters + 1  # a singleton, which scores 0
    assert silhouette(matrix, labels) == pytest.approx(silhouette_score(matrix, labels), rel=1e-12)


def test_fits_table_records_each_fit(blobs):
    run = MixtureRun("gmm3_test", "s", n_components=3, random_state=5, options={"max_iter": 50})
    tasks = [FitTask("run", run), FitTask("refit", run.reseeded(2), compared_with="gmm3_test")]
    rows = fits_table(fit_all(tasks, {"s": blobs}), {"s": ("a", "b", "c", "d")}).to_pylist()
    assert [(row["fit_id"], row["fit_kind"], row["run_id"]) for row in rows] == [
        ("gmm3_test", "run", "gmm3_test"),
        ("gmm3_test@2", "refit", "gmm3_test"),
    ]
    row = rows[0]
    assert row["feature_names"] == ["a", "b", "c", "d"]
    assert (row["n_components"], row["random_state"], row["covariance_type"]) == (3, 5, "full")
    assert '"max_iter": 50' in row["estimator_params"]
    assert row["converged"] is True and row["fit_worker"] in (0, 1)
    assert len(row["weights"]) == 3 and abs(sum(row["weights"]) - 1) < 1e-12
    assert rows[1]["adjusted_rand_index"] == pytest.approx(1.0)


def test_a_limit_held_by_a_context_manager_is_lifted_under_another_threads_fit():
    """Today's race, reproduced: two models in two threads, each holding BLAS to one thread
    with a context manager. When the first block exits it restores the process-wide
    limit, so the second thread's fit, still running, sees every core's threads again."""
    with threadpool_limits(limits=2):
        inside, first_exited, seen = threading.Event(), threading.Event(), []

        def model_that_finishes_first():
            with threadpool_limits(limits=1):
                inside.wait()
            first_exited.set()

        def model_still_fitting():
            with threadpool_limits(limits=1):
                inside.set()
                first_exited.wait()
                seen.append(threads.blas_threads())

        workers = [threading.Thread(target=model_that_finishes_first)]
        workers.append(threading.Thread(target=model_still_fitting))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert seen == [2]


def test_the_one_thread_discipline_holds_in_every_fit_of_concurrent_schedulers(blobs, monkeypatch):
    """The race gone: with the limit set once for the process (as the dbt plugin does),
    fits of two schedulers running at once all see one BLAS thread, before and after
    either finishes."""
    seen = []
    real_fit = fitting.fit_mixture

    def recording_fit(matrix, run, silhouette_sample=None, threads_per_fit=1):
        seen.append(threads.blas_threads())
        fitted = real_fit(matrix, run, silhouette_sample, threads_per_fit)
        seen.append(threads.blas_threads())
        return fitted

    monkeypatch.setattr("clustering.schedule.fit_mixture", recording_fit)
    threads.use_one_blas_thread()
    schedulers = [
        threading.Thread(
            target=fit_all,
            args=(
                [
                    FitTask("run", MixtureRun(f"gmm{k}@{seed}", "s", k, random_state=seed))
                    for k in (2, 3, 4)
                ],
                {"s": blobs},
            ),
        )  # fmt: skip
        for seed in (0, 1)
    ]
    for scheduler in schedulers:
        scheduler.start()
    for scheduler in schedulers:
        scheduler.join()
    assert len(seen) == 12 and set(seen) == {1}
    # BLAS's limit is process-wide: it stays at one thread after both have finished.
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
