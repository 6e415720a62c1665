"""Reading the inputs of the Python models from DuckDB relations, one way for all."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa


def feature_matrix(
    vectors: duckdb.DuckDBPyRelation, feature_set: str
) -> tuple[list[str], np.ndarray]:
    """(detection ids, detections x features matrix) of a feature set, by detection id.

    A fixed row order matters: the k-means initialisation of a fit depends on it.
    """
    table = (
        vectors.filter(f"feature_set = '{feature_set}'")
        .order("detection_id")
        .select("detection_id, features")
        .to_arrow_table()
    )
    return table["detection_id"].to_pylist(), list_matrix(table["features"])


def list_matrix(lists: pa.ChunkedArray) -> np.ndarray:
    """A column of equal-length lists of numbers as a (rows x length) float matrix: Arrow's
    flattened values reshaped, no Python object per row."""
    lists = lists.combine_chunks()
    width = len(lists[0]) if len(lists) else 0
    values = lists.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(lists), width).astype(float, copy=False)


def cluster_labels(clusters: duckdb.DuckDBPyRelation, run_id: str) -> tuple[list[str], np.ndarray]:
    """(detection ids, raw cluster numbers) of a run, by detection id."""
    columns = (
        clusters.filter(f"run_id = '{run_id}'")
        .order("detection_id")
        .select("detection_id, cluster")
        .fetchnumpy()
    )
    return columns["detection_id"].tolist(), np.asarray(columns["cluster"], dtype=int)
