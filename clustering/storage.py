"""How fitted mixtures are stored, and rebuilt from storage without refitting.

A fitted mixture is stored as plain arrays: weights, means, and the covariances and
Cholesky factors of the precisions as one full matrix per component (whatever the
covariance type). A mixture rebuilt from those arrays scores detections exactly as the
fitted one did.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import sklearn
from sklearn.mixture import GaussianMixture

from clustering.runs import fit_id

if TYPE_CHECKING:
    from clustering.schedule import FitOutcome, SkippedFit


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


def stored_parameters(estimator: GaussianMixture) -> dict[str, list]:
    """The arrays a fitted estimator is stored as, full matrices whatever the type."""
    covariance_type = estimator.covariance_type
    n_components, n_features = estimator.means_.shape
    return {
        "weights": estimator.weights_.tolist(),
        "means": estimator.means_.tolist(),
        "covariances": to_full_matrices(
            covariance_type, estimator.covariances_, n_components, n_features
        ).tolist(),
        "precisions_cholesky": to_full_matrices(
            covariance_type, estimator.precisions_cholesky_, n_components, n_features
        ).tolist(),
    }


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


def mixture_from_stored_row(row: dict[str, Any]) -> GaussianMixture:
    """Rebuild the mixture of one stored fit (a row with the stored_parameters columns)."""
    return mixture_from_parameters(
        row["covariance_type"],
        row["weights"],
        row["means"],
        row["covariances"],
        row["precisions_cholesky"],
    )


FITS_SCHEMA = pa.schema(
    [
        ("fit_id", pa.string()),
        ("fit_kind", pa.string()),
        ("run_id", pa.string()),
        ("skipped_reason", pa.string()),
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
        ("adjusted_rand_index", pa.float64()),
        ("aligned_agreement", pa.float64()),
        ("estimator_params", pa.string()),
        ("sklearn_version", pa.string()),
        ("fit_seconds", pa.float64()),
        ("fit_worker", pa.int32()),
        ("fitted_at", pa.timestamp("us", tz="UTC")),
        ("weights", pa.list_(pa.float64())),
        ("means", pa.list_(pa.list_(pa.float64()))),
        ("covariances", pa.list_(pa.list_(pa.list_(pa.float64())))),
        ("precisions_cholesky", pa.list_(pa.list_(pa.list_(pa.float64())))),
    ]
)


def fits_table(
    outcomes: list[FitOutcome],
    feature_names: dict[str, tuple[str, ...]],
    skipped: list[SkippedFit] = (),
) -> pa.Table:
    """One row per fit, in FITS_SCHEMA: figures, how it ran, and its parameters; then one
    row per skipped fit, with its reason and nothing else.

    feature_names holds each feature set's features, in the mixtures' axis order.
    """
    rows = []
    for outcome in outcomes:
        task, fitted = outcome.task, outcome.fitted
        estimator = fitted.estimator
        rows.append(
            {
                "fit_id": task.fit_id,
                "fit_kind": task.kind,
                "run_id": {"run": task.run.run_id, "refit": task.compared_with}.get(task.kind),
                "feature_set": task.run.feature_set,
                "feature_names": list(feature_names[task.run.feature_set]),
                "n_components": task.run.n_components,
                "covariance_type": task.run.covariance_type,
                "random_state": task.run.random_state,
                "converged": bool(estimator.converged_),
                "n_iter": int(estimator.n_iter_),
                "lower_bound": float(estimator.lower_bound_),
                "bic": fitted.bic,
                "aic": fitted.aic,
                "silhouette": fitted.silhouette,
                "silhouette_sample_size": fitted.silhouette_sample_size,
                "n_detections": fitted.n_detections,
                "adjusted_rand_index": outcome.adjusted_rand_index,
                "aligned_agreement": outcome.aligned_agreement,
                "estimator_params": json.dumps(estimator.get_params(), sort_keys=True),
                "sklearn_version": sklearn.__version__,
                "fit_seconds": fitted.fit_seconds,
                "fit_worker": outcome.worker,
                "fitted_at": fitted.fitted_at,
                **stored_parameters(estimator),
            }
        )
    rows += [
        {
            "fit_id": fit_id(skip.kind, skip.run),
            "fit_kind": skip.kind,
            "run_id": skip.run.run_id if skip.kind == "run" else None,
            "skipped_reason": skip.reason,
            "feature_set": skip.run.feature_set,
            "feature_names": list(feature_names[skip.run.feature_set]),
            "n_components": skip.run.n_components,
            "covariance_type": skip.run.covariance_type,
            "random_state": skip.run.random_state,
        }
        for skip in skipped
    ]
    return pa.Table.from_pylist(rows, schema=FITS_SCHEMA)
