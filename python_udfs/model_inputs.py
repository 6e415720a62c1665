"""Reading the inputs of the Python models from DuckDB relations, one way for all."""

from __future__ import annotations

import duckdb
import numpy as np


def feature_matrix(
    vectors: duckdb.DuckDBPyRelation, feature_set: str
) -> tuple[list[str], np.ndarray]:
    """(detection ids, detections x features matrix) of a feature set, by detection id.

    A fixed row order matters: the k-means initialisation of a fit depends on it.
    """
    columns = (
        vectors.filter(f"feature_set = '{feature_set}'")
        .order("detection_id")
        .select("detection_id, features")
        .fetchnumpy()
    )
    return columns["detection_id"].tolist(), np.array(columns["features"].tolist(), dtype=float)


def cluster_labels(clusters: duckdb.DuckDBPyRelation, run_id: str) -> tuple[list[str], np.ndarray]:
    """(detection ids, raw cluster numbers) of a run, by detection id."""
    columns = (
        clusters.filter(f"run_id = '{run_id}'")
        .order("detection_id")
        .select("detection_id, cluster")
        .fetchnumpy()
    )
    return columns["detection_id"].tolist(), np.asarray(columns["cluster"], dtype=int)
