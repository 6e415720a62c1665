"""Python functions that SQL models call where SQL is the wrong tool.

    gmm_score(run_id, features) -> struct(probabilities double[], log_likelihood double)
        a detection scored against the stored mixture of a run, in one pass: each
        component's membership probability (sklearn's predict_proba) and the detection's
        log-likelihood under the whole mixture (score_samples)

The stored mixtures are read from the relation the plugin is configured with
(profiles.yml: `mixtures_relation`, a table with run_id, fit_kind and the stored
parameters of clustering.storage), so detections, new ones included, are scored without
refitting. `features` are the detection's transformed features in the run's order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture

SCORE_TYPE = pa.struct(
    [("probabilities", pa.list_(pa.float64())), ("log_likelihood", pa.float64())]
)
# Rows are scored in blocks of exactly this many (the last one padded): a matrix product
# rounds alike for every row only when its shape does not change, and DuckDB hands the
# function batches whose sizes depend on thread scheduling. Same input, same bits.
SCORE_BLOCK_ROWS = 512


class StoredMixtures:
    """Mixtures rebuilt from the mixtures relation, each loaded once per fit (fitted_at)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, relation: str):
        self._connection = connection
        self._relation = relation
        self._loaded: dict[str, tuple[datetime, GaussianMixture]] = {}

    def mixture(self, run_id: str) -> GaussianMixture:
        # A cursor is a connection of its own, so this reads committed fits while the
        # calling query runs.
        cursor = self._connection.cursor()
        where = (
            f"from {self._relation}"
            " where fit_kind = 'run' and skipped_reason is null and run_id = ?"
        )
        found = cursor.execute(f"select fitted_at {where}", [run_id]).fetchone()
        if found is None:
            raise ValueError(f"run {run_id!r} is not among the fitted runs in {self._relation}")
        cached = self._loaded.get(run_id)
        if cached is None or cached[0] != found[0]:
            # Imported on first use: every dbt run loads this plugin, few score mixtures.
            from clustering.storage import mixture_from_stored_row

            row = cursor.execute(f"select * {where}", [run_id]).to_arrow_table().to_pylist()[0]
            cached = (found[0], mixture_from_stored_row(row))
            self._loaded[run_id] = cached
        return cached[1]


def score_rows(mixture: GaussianMixture, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(membership probabilities, log-likelihoods) of every row, in blocks of fixed shape."""
    # Imported on first use: every dbt run loads this plugin, few score mixtures.
    from clustering.em import score_samples_and_probabilities

    n_rows = len(matrix)
    padded = np.zeros((-(-n_rows // SCORE_BLOCK_ROWS) * SCORE_BLOCK_ROWS, matrix.shape[1]))
    padded[:n_rows] = matrix
    probabilities, log_likelihood = score_samples_and_probabilities(
        mixture, padded, chunk_rows=SCORE_BLOCK_ROWS
    )
    return probabilities[:n_rows], log_likelihood[:n_rows]


def _gmm_score(mixtures: StoredMixtures) -> Callable[[pa.Array, pa.Array], pa.Array]:
    """An Arrow UDF that scores each batch's rows run by run, vectorised."""

    def udf(run_ids: pa.Array, features: pa.Array) -> pa.Array:
        if isinstance(features, pa.ChunkedArray):
            features = features.combine_chunks()
        probabilities: list = [None] * len(run_ids)
        log_likelihoods: list = [None] * len(run_ids)
        rows_by_run: dict[str, list[int]] = {}
        for index, run_id in enumerate(run_ids.to_pylist()):
            if run_id is not None and features[index].is_valid:
                rows_by_run.setdefault(run_id, []).append(index)
        for run_id, rows in rows_by_run.items():
            mixture = mixtures.mixture(run_id)
            selected = features.take(pa.array(rows))
            matrix = selected.flatten().to_numpy(zero_copy_only=False).reshape(len(rows), -1)
            if matrix.shape[1] != mixture.n_features_in_:
                raise ValueError(
                    f"run {run_id!r} has {mixture.n_features_in_} features, "
                    f"got vectors of {matrix.shape[1]}"
                )
            run_probabilities, run_log_likelihoods = score_rows(mixture, matrix)
            for position, row in enumerate(rows):
                probabilities[row] = run_probabilities[position].tolist()
                log_likelihoods[row] = float(run_log_likelihoods[position])
        return pa.StructArray.from_arrays(
            [
                pa.array(probabilities, type=pa.list_(pa.float64())),
                pa.array(log_likelihoods, type=pa.float64()),
            ],
            fields=list(SCORE_TYPE),
            mask=pa.array([value is None for value in log_likelihoods]),
        )

    return udf


def register(connection: duckdb.DuckDBPyConnection, mixtures_relation: str) -> None:
    """Register the functions on a DuckDB connection."""
    connection.create_function(
        "gmm_score",
        _gmm_score(StoredMixtures(connection, mixtures_relation)),
        [duckdb.sqltype("varchar"), duckdb.sqltype("double[]")],
        duckdb.sqltype("struct(probabilities double[], log_likelihood double)"),
        type="arrow",
    )
