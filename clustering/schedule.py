"""Every fit of a build, on one scheduler: the configured runs, their stability refits
and the k scan, fitted side by side on all cores, largest first.

Fitting them as one pool (rather than runs, then refits, then the scan) keeps the
critical path near max(largest fit, total fit time / cores). Each fit records the
seconds it took and the worker it ran on.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustering.fitting import FittedMixture, fit_mixture, sample_rows
from clustering.runs import MixtureRun, fit_id
from clustering.stability import compare_with_run
from clustering.threads import hold_thread_to_one

WORKER_PREFIX = "fit-worker"


@dataclass(frozen=True)
class FitTask:
    """One fit: a configured run, a refit of one with another seed, or a k-scan fit."""

    kind: str  # "run", "refit" or "scan"
    run: MixtureRun
    # The rows of the feature set's matrix to fit (a fixed sample), or None for all.
    rows: np.ndarray | None = None
    # Rows of the fitted matrix to compute the silhouette on, or None for no silhouette.
    silhouette_rows: np.ndarray | None = None
    # A refit's run, whose clusters it is compared with.
    compared_with: str | None = None

    @property
    def fit_id(self) -> str:
        return fit_id(self.kind, self.run)


@dataclass(frozen=True)
class SkippedFit:
    """A fit the data cannot support, and why (it is listed, not fitted)."""

    kind: str
    run: MixtureRun
    reason: str


@dataclass(frozen=True)
class FitOutcome:
    task: FitTask
    fitted: FittedMixture
    worker: int
    # A refit's adjusted Rand index and aligned agreement against its run.
    adjusted_rand_index: float | None = None
    aligned_agreement: float | None = None


def plan_fits(
    runs: list[MixtureRun],
    comparison: dict[str, Any],
    scan: dict[str, Any],
    n_rows: dict[str, int],
    unusable: dict[str, str] | None = None,
) -> tuple[list[FitTask], list[SkippedFit]]:
    """The fits of a build: each run (with its silhouette sample), each run refitted with
    every stability seed on its feature set's fixed stability sample, and every k and seed
    of the scan on its fixed sample; and the
    fits the data cannot support, each with its reason.

    comparison and scan are vars gmm_comparison and gmm_scan; n_rows the rows of each
    feature set's matrix; unusable the reason a feature set cannot be fitted at all. A
    mixture needs at least as many detections as components (k-means starts it from
    one detection per component); a skipped run is not refitted either.
    """
    unusable = unusable or {}

    def reason(feature_set: str, fitted_rows: int, n_components: int) -> str | None:
        if feature_set in unusable:
            return f"feature set {feature_set}: {unusable[feature_set]}"
        if fitted_rows < n_components:
            return (
                f"feature set {feature_set} has {fitted_rows} usable detection(s), fewer than"
                f" the {n_components} components"
            )
        return None

    tasks, skipped = [], []
    for run in runs:
        why = reason(run.feature_set, n_rows.get(run.feature_set, 0), run.n_components)
        if why:
            skipped.append(SkippedFit("run", run, why))
            continue
        silhouette = sample_rows(
            n_rows[run.feature_set],
            comparison["silhouette_max_detections"],
            comparison["silhouette_sample_seed"],
        )
        tasks.append(FitTask("run", run, silhouette_rows=silhouette))
    fitted_runs = [task.run for task in tasks]
    # Refits at catalogue size would cost more than the runs: each is fitted on one fixed
    # sample per feature set, and compared with its run on those detections.
    refit_rows = {
        feature_set: sample_rows(
            n_rows[feature_set],
            comparison["stability_max_detections"],
            comparison["stability_sample_seed"],
        )
        for feature_set in {run.feature_set for run in fitted_runs}
    }
    tasks += [
        FitTask(
            "refit",
            run.reseeded(seed),
            rows=refit_rows[run.feature_set],
            compared_with=run.run_id,
        )
        for run in fitted_runs
        for seed in comparison["stability_seeds"]
    ]
    scan_set = scan["feature_set"]
    sample = sample_rows(n_rows.get(scan_set, 0), scan["max_detections"], scan["sample_seed"])
    for k in range(scan["k_min"], scan["k_max"] + 1):
        for seed in scan["seeds"]:
            run = MixtureRun(f"k{k}@{seed}", scan_set, k, scan["covariance_type"], seed)
            why = reason(scan_set, len(sample), k)
            if why:
                skipped.append(SkippedFit("scan", run, why))
            else:
                tasks.append(
                    FitTask("scan", run, rows=sample, silhouette_rows=np.arange(len(sample)))
                )
    return tasks, skipped


def fit_all(
    tasks: list[FitTask], matrices: dict[str, np.ndarray], workers: int | None = None
) -> list[FitOutcome]:
    """Fit every task, `workers` at a time (default: one per core), largest first; the
    outcomes in the order of `tasks`, refits compared with their runs. A single task gets
    every core (the EM kernel splits its rows over them)."""
    cores = os.cpu_count() or 1
    workers = workers or max(1, min(len(tasks), cores))
    threads_per_fit = cores if len(tasks) == 1 else 1

    def cost(task: FitTask) -> int:
        n_rows, n_features = matrices[task.run.feature_set].shape
        fitted_rows = n_rows if task.rows is None else len(task.rows)
        return fitted_rows * task.run.n_components * n_features**2

    def fit(task: FitTask) -> FitOutcome:
        matrix = matrices[task.run.feature_set]
        if task.rows is not None:
            matrix = matrix[task.rows]
        worker = int(threading.current_thread().name.rsplit("_", 1)[-1])
        fitted = fit_mixture(matrix, task.run, task.silhouette_rows, threads_per_fit)
        return FitOutcome(task, fitted, worker)

    # sorted() is stable: equal costs keep the configured order.
    largest_first = sorted(range(len(tasks)), key=lambda index: -cost(tasks[index]))
    with ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix=WORKER_PREFIX, initializer=hold_thread_to_one
    ) as pool:
        futures = {index: pool.submit(fit, tasks[index]) for index in largest_first}
        outcomes = [futures[index].result() for index in range(len(tasks))]
    return _with_stability(outcomes)


def _with_stability(outcomes: list[FitOutcome]) -> list[FitOutcome]:
    runs = {outcome.task.fit_id: outcome for outcome in outcomes if outcome.task.kind == "run"}
    compared = []
    for outcome in outcomes:
        if outcome.task.kind == "refit":
            run = runs[outcome.task.compared_with]
            run_labels = run.fitted.labels
            if outcome.task.rows is not None:
                run_labels = run_labels[outcome.task.rows]
            ari, agreement = compare_with_run(
                outcome.fitted.labels, run_labels, run.task.run.n_components
            )
            outcome = FitOutcome(outcome.task, outcome.fitted, outcome.worker, ari, agreement)
        compared.append(outcome)
    return compared
