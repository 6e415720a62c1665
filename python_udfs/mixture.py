"""Gaussian-mixture mathematics, kept free of dbt and DuckDB so pytest can check it.

A fitted mixture is stored as plain arrays: weights, means, and the covariances
and Cholesky factors of the precisions as one full matrix per component
(whatever the covariance type). A mixture rebuilt from those arrays scores
detections exactly as the fitted one did, without refitting.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

RUN_KEYS = ("run_id", "feature_set", "n_components", "covariance_type", "random_state")


@dataclass(frozen=True)
class MixtureRun:
    """One configured fit: which features, how many components, which seed."""

    run_id: str
    feature_set: str
    n_components: int
    covariance_type: str = "full"
    random_state: int = 42
    # Any further GaussianMixture parameter (max_iter, n_init, tol, reg_covar, ...).
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MixtureRun:
        return cls(
            **{key: value for key, value in config.items() if key in RUN_KEYS},
            options={key: value for key, value in config.items() if key not in RUN_KEYS},
        )

    def reseeded(self, seed: int) -> MixtureRun:
        """The same run with another seed (for stability and the k scan)."""
        return MixtureRun(
            f"{self.run_id}@{seed}",
            self.feature_set,
            self.n_components,
            self.covariance_type,
            seed,
            self.options,
        )

    def estimator(self) -> GaussianMixture:
        return GaussianMixture(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            random_state=self.random_state,
            **self.options,
        )


@dataclass(frozen=True)
class FittedMixture:
    """What one fit produced: the run table's figures and the fitted estimator."""

    run: MixtureRun
    features: tuple[str, ...]
    estimator: GaussianMixture
    labels: np.ndarray
    bic: float
    aic: float
    silhouette: float | None
    silhouette_sample_size: int
    n_detections: int
    fit_seconds: float
    fitted_at: datetime


def sample_rows(n_rows: int, max_rows: int, seed: int) -> np.ndarray:
    """A fixed random sample of at most max_rows row indices, sorted."""
    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))


def fit_mixture(
    matrix: np.ndarray,
    features: tuple[str, ...],
    run: MixtureRun,
    silhouette_sample: np.ndarray | None = None,
) -> FittedMixture:
    """Fit one mixture on a (detections x features) matrix.

    With silhouette_sample (row indices), the silhouette score of the fitted
    clusters on those rows; euclidean, as the original analysis computed it.
    """
    estimator = run.estimator()
    started = time.perf_counter()
    estimator.fit(matrix)
    fit_seconds = time.perf_counter() - started
    labels = estimator.predict(matrix)
    silhouette = None
    if silhouette_sample is not None and len(np.unique(labels[silhouette_sample])) > 1:
        silhouette = float(silhouette_score(matrix[silhouette_sample], labels[silhouette_sample]))
    return FittedMixture(
        run=run,
        features=features,
        estimator=estimator,
        labels=labels,
        bic=float(estimator.bic(matrix)),
        aic=float(estimator.aic(matrix)),
        silhouette=silhouette,
        silhouette_sample_size=0 if silhouette_sample is None else len(silhouette_sample),
        n_detections=matrix.shape[0],
        fit_seconds=fit_seconds,
        fitted_at=datetime.now(UTC),
    )


def fit_mixtures(
    matrices: dict[str, np.ndarray],
    features: dict[str, tuple[str, ...]],
    runs: list[MixtureRun],
    silhouette_samples: dict[str, np.ndarray] | None = None,
    workers: int | None = None,
) -> list[FittedMixture]:
    """Fit several runs, in parallel, returned in the order given.

    matrices, features and silhouette_samples are keyed by feature set. Each
    fit's linear algebra is held to one thread: runs in parallel use the cores
    better than one run's small (features x features) products, and a fit's
    floating-point result then does not depend on how many cores the machine has.
    """
    silhouette_samples = silhouette_samples or {}
    workers = workers or min(len(runs), os.cpu_count() or 1)
    # Largest first, so the longest fit does not start last.
    by_size = sorted(runs, key=lambda run: run.n_components, reverse=True)
    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            run.run_id: pool.submit(
                fit_mixture,
                matrices[run.feature_set],
                features[run.feature_set],
                run,
                silhouette_samples.get(run.feature_set),
            )
            for run in by_size
        }
        return [futures[run.run_id].result() for run in runs]


def align_components(
    labels: np.ndarray, reference_labels: np.ndarray, n_components: int
) -> dict[int, int]:
    """Component number -> aligned label, matching a run's components to a reference's.

    Mixture component numbers are arbitrary. An optimal assignment (Hungarian,
    on the number of detections two clusters share) gives each component the
    label of the reference cluster it overlaps most as a whole. Components left
    over (the run has more than the reference, or a component is nobody's most
    probable one) get the smallest free labels, largest first. labels and
    reference_labels hold the same detections, in one order.
    """
    labels, reference_labels = np.asarray(labels), np.asarray(reference_labels)
    components, reference = np.unique(labels), np.unique(reference_labels)
    shared = np.zeros((len(components), len(reference)), dtype=np.int64)
    np.add.at(
        shared,
        (np.searchsorted(components, labels), np.searchsorted(reference, reference_labels)),
        1,
    )
    rows, columns = linear_sum_assignment(shared, maximize=True)
    aligned = {
        int(components[row]): int(reference[column])
        for row, column in zip(rows, columns, strict=True)
    }
    sizes = np.bincount(labels, minlength=n_components)
    leftovers = sorted(
        (component for component in range(n_components) if component not in aligned),
        key=lambda component: (-sizes[component], component),
    )
    used = set(aligned.values())
    free_labels = (label for label in range(n_components + len(reference)) if label not in used)
    aligned.update(zip(leftovers, free_labels, strict=False))
    return aligned


@dataclass(frozen=True)
class Refit:
    """A run refitted with another seed, compared with the run itself."""

    run_id: str
    seed: int
    converged: bool
    n_iter: int
    adjusted_rand_index: float
    # Share of detections whose refit cluster, aligned to the run's, is the run's cluster.
    aligned_agreement: float
    fit_seconds: float


def refit_stability(
    matrices: dict[str, np.ndarray],
    runs: list[MixtureRun],
    run_labels: dict[str, np.ndarray],
    seeds: list[int],
    workers: int | None = None,
) -> list[Refit]:
    """Refit every run with every seed; how far do its clusters move?"""
    refits = [run.reseeded(seed) for run in runs for seed in seeds]
    features = {feature_set: () for feature_set in matrices}
    fitted = fit_mixtures(matrices, features, refits, workers=workers)
    results = []
    for run, fit in zip([run for run in runs for _ in seeds], fitted, strict=True):
        labels = run_labels[run.run_id]
        to_run = align_components(fit.labels, labels, run.n_components)
        aligned = np.array([to_run[int(label)] for label in fit.labels])
        results.append(
            Refit(
                run_id=run.run_id,
                seed=fit.run.random_state,
                converged=bool(fit.estimator.converged_),
                n_iter=int(fit.estimator.n_iter_),
                adjusted_rand_index=float(adjusted_rand_score(labels, fit.labels)),
                aligned_agreement=float(np.mean(aligned == labels)),
                fit_seconds=fit.fit_seconds,
            )
        )
    return results


def to_full_matrices(
    covariance_type: str, native: np.ndarray, n_components: int, n_features: int
) -> np.ndarray:
    """Covariances (or precision Cholesky factors) as one full matrix per component.

    sklearn shapes them by covariance type; the warehouse stores every type as
    (components x features x features) so one column type serves all runs.
    """
    native = np.asarray(native, dtype=float)
    if covariance_type == "full":
        return native
    if covariance_type == "tied":
        return np.broadcast_to(native, (n_components, n_features, n_features))
    if covariance_type == "diag":
        return np.stack([np.diag(row) for row in native])
    return np.stack([np.eye(n_features) * value for value in native])


def to_native(covariance_type: str, full: np.ndarray) -> np.ndarray:
    """The inverse of to_full_matrices: sklearn's own shape for the covariance type."""
    full = np.asarray(full, dtype=float)
    if covariance_type == "full":
        return full
    if covariance_type == "tied":
        return full[0]
    if covariance_type == "diag":
        return np.stack([np.diag(matrix) for matrix in full])
    return full[:, 0, 0]


def mixture_from_parameters(
    covariance_type: str,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    precisions_cholesky: np.ndarray,
) -> GaussianMixture:
    """A GaussianMixture that scores like the fitted one, from stored (full-matrix) parameters."""
    mixture = GaussianMixture(n_components=len(weights), covariance_type=covariance_type)
    mixture.weights_ = np.asarray(weights, dtype=float)
    mixture.means_ = np.asarray(means, dtype=float)
    mixture.covariances_ = to_native(covariance_type, covariances)
    mixture.precisions_cholesky_ = to_native(covariance_type, precisions_cholesky)
    # As sklearn derives them after a fit: precision = L @ L.T from its Cholesky factor L.
    if covariance_type == "full":
        mixture.precisions_ = np.einsum(
            "kij,klj->kil", mixture.precisions_cholesky_, mixture.precisions_cholesky_
        )
    elif covariance_type == "tied":
        mixture.precisions_ = mixture.precisions_cholesky_ @ mixture.precisions_cholesky_.T
    else:
        mixture.precisions_ = mixture.precisions_cholesky_**2
    mixture.converged_ = True
    mixture.n_features_in_ = mixture.means_.shape[1]
    return mixture


SCAN_SCHEMA = pa.schema(
    [
        ("feature_set", pa.string()),
        ("k", pa.int32()),
        ("seed", pa.int64()),
        ("covariance_type", pa.string()),
        ("n_detections", pa.int64()),
        ("converged", pa.bool_()),
        ("n_iter", pa.int32()),
        ("bic", pa.float64()),
        ("aic", pa.float64()),
        ("silhouette", pa.float64()),
        ("fit_seconds", pa.float64()),
    ]
)


def scan_components(
    matrix: np.ndarray,
    feature_set: str,
    covariance_type: str,
    k_values: range,
    seeds: list[int],
    max_detections: int,
    sample_seed: int,
) -> pa.Table:
    """Fit every k with every seed on one fixed sample: BIC, AIC and silhouette per fit."""
    sample = matrix[sample_rows(len(matrix), max_detections, sample_seed)]
    runs = [
        MixtureRun(f"k{k}@{seed}", feature_set, k, covariance_type, seed)
        for k in k_values
        for seed in seeds
    ]
    fits = fit_mixtures(
        {feature_set: sample},
        {feature_set: ()},
        runs,
        silhouette_samples={feature_set: np.arange(len(sample))},
    )
    return pa.Table.from_pylist(
        [
            {
                "feature_set": feature_set,
                "k": fit.run.n_components,
                "seed": fit.run.random_state,
                "covariance_type": covariance_type,
                "n_detections": fit.n_detections,
                "converged": bool(fit.estimator.converged_),
                "n_iter": int(fit.estimator.n_iter_),
                "bic": fit.bic,
                "aic": fit.aic,
                "silhouette": fit.silhouette,
                "fit_seconds": fit.fit_seconds,
            }
            for fit in fits
        ],
        schema=SCAN_SCHEMA,
    )


FITS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("feature_set", pa.string()),
        ("feature_names", pa.list_(pa.string())),
        ("n_components", pa.int32()),
        ("covariance_type", pa.string()),
        ("random_state", pa.int64()),
        ("converged", pa.bool_()),
        ("n_iter", pa.int32()),
        ("lower_bound", pa.float64()),
        ("bic", pa.float64()),
        ("aic", pa.float64()),
        ("silhouette", pa.float64()),
        ("silhouette_sample_size", pa.int64()),
        ("n_detections", pa.int64()),
        ("estimator_params", pa.string()),
        ("sklearn_version", pa.string()),
        ("fit_seconds", pa.float64()),
        ("fitted_at", pa.timestamp("us", tz="UTC")),
        ("weights", pa.list_(pa.float64())),
        ("means", pa.list_(pa.list_(pa.float64()))),
        ("covariances", pa.list_(pa.list_(pa.list_(pa.float64())))),
        ("precisions_cholesky", pa.list_(pa.list_(pa.list_(pa.float64())))),
    ]
)


def fits_table(fits: list[FittedMixture]) -> pa.Table:
    """One row per run, in FITS_SCHEMA: what the run table and the parameter table show."""
    rows = []
    for fit in fits:
        estimator, n_features = fit.estimator, len(fit.features)
        covariance_type = fit.run.covariance_type
        rows.append(
            {
                "run_id": fit.run.run_id,
                "feature_set": fit.run.feature_set,
                "feature_names": list(fit.features),
                "n_components": fit.run.n_components,
                "covariance_type": covariance_type,
                "random_state": fit.run.random_state,
                "converged": bool(estimator.converged_),
                "n_iter": int(estimator.n_iter_),
                "lower_bound": float(estimator.lower_bound_),
                "bic": fit.bic,
                "aic": fit.aic,
                "silhouette": fit.silhouette,
                "silhouette_sample_size": fit.silhouette_sample_size,
                "n_detections": fit.n_detections,
                "estimator_params": json.dumps(estimator.get_params(), sort_keys=True),
                "sklearn_version": sklearn.__version__,
                "fit_seconds": fit.fit_seconds,
                "fitted_at": fit.fitted_at,
                "weights": estimator.weights_.tolist(),
                "means": estimator.means_.tolist(),
                "covariances": to_full_matrices(
                    covariance_type, estimator.covariances_, fit.run.n_components, n_features
                ).tolist(),
                "precisions_cholesky": to_full_matrices(
                    covariance_type,
                    estimator.precisions_cholesky_,
                    fit.run.n_components,
                    n_features,
                ).tolist(),
            }
        )
    return pa.Table.from_pylist(rows, schema=FITS_SCHEMA)


def mixture_from_fits_row(row: dict[str, Any]) -> GaussianMixture:
    """Rebuild the mixture of one row of the fits table."""
    return mixture_from_parameters(
        row["covariance_type"],
        row["weights"],
        row["means"],
        row["covariances"],
        row["precisions_cholesky"],
    )
