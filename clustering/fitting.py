"""Fitting one mixture and the figures that judge it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sklearn.mixture import GaussianMixture

from clustering.em import fit_gaussian_mixture, score_samples_and_probabilities
from clustering.runs import MixtureRun
from clustering.silhouette import silhouette as silhouette_of


@dataclass(frozen=True)
class FittedMixture:
    """What one fit produced: the run table's figures and the fitted estimator."""

    run: MixtureRun
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
    run: MixtureRun,
    silhouette_sample: np.ndarray | None = None,
    threads: int = 1,
) -> FittedMixture:
    """Fit one mixture on a (detections x features) matrix: by the EM kernel of
    clustering.em where it is faster and equal to scikit-learn's fit, else by sklearn's.

    With silhouette_sample (row indices), the silhouette score of the fitted clusters on
    those rows; euclidean, as the original analysis computed it (clustering.silhouette).
    threads > 1 lets one large fit use several cores (the result does not depend on it).
    """
    estimator = run.estimator()
    started = time.perf_counter()
    fit_gaussian_mixture(matrix, estimator, threads=threads)
    fit_seconds = time.perf_counter() - started
    probabilities, _ = score_samples_and_probabilities(estimator, matrix)
    # argmax takes the first maximum, as estimator.predict does
    labels = probabilities.argmax(axis=1)
    silhouette = None
    # The silhouette needs at least two clusters, and fewer clusters than detections.
    if silhouette_sample is not None and (
        1 < len(np.unique(labels[silhouette_sample])) < len(silhouette_sample)
    ):
        silhouette = silhouette_of(matrix[silhouette_sample], labels[silhouette_sample])
    return FittedMixture(
        run=run,
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
