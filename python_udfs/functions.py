"""Python functions that SQL models call where SQL is the wrong tool.

They score detections against a mixture stored in the fits table (gmm_fits),
so detections, new ones included, are assigned without refitting:

    gmm_membership_probabilities(fits_relation, run_id, features) -> double[]
        each component's membership probability (sklearn's predict_proba)
    gmm_log_likelihood(fits_relation, run_id, features) -> double
        the log-likelihood of the detection under the mixture (score_samples)

`fits_relation` is the fits table's name (in a model, '{{ ref("gmm_fits") }}');
`features` the detection's transformed features in the run's feature order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture

RELATION_NAME = re.compile(r'^("?[A-Za-z_][\w$]*"?\.){0,2}"?[A-Za-z_][\w$]*"?$')


class StoredMixtures:
    """Mixtures rebuilt from a fits table, each loaded once per fit (run_id, fitted_at)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self._connection = connection
        self._loaded: dict[tuple[str, str], tuple[datetime, GaussianMixture]] = {}

    def mixture(self, relation: str, run_id: str) -> GaussianMixture:
        if not RELATION_NAME.match(relation):
            raise ValueError(f"not a table name: {relation!r}")
        # A cursor is a connection of its own, so this reads committed fits while
        # the calling query runs.
        cursor = self._connection.cursor()
        found = cursor.execute(
            f"select fitted_at from {relation} where run_id = ?", [run_id]
        ).fetchone()
        if found is None:
            raise ValueError(f"run {run_id!r} is not in {relation}")
        cached = self._loaded.get((relation, run_id))
        if cached is None or cached[0] != found[0]:
            # Imported on first use: every dbt run loads this plugin, few score mixtures.
            from python_udfs.mixture import mixture_from_fits_row

            row = (
                cursor.execute(f"select * from {relation} where run_id = ?", [run_id])
                .to_arrow_table()
                .to_pylist()[0]
            )
            cached = (found[0], mixture_from_fits_row(row))
            self._loaded[(relation, run_id)] = cached
        return cached[1]


def _score_by_run(
    mixtures: StoredMixtures,
    score: Callable[[GaussianMixture, np.ndarray], np.ndarray],
    result_type: pa.DataType,
) -> Callable[[pa.Array, pa.Array, pa.Array], pa.Array]:
    """An Arrow UDF that scores each batch's rows run by run, vectorised."""

    def udf(relations: pa.Array, run_ids: pa.Array, features: pa.Array) -> pa.Array:
        if isinstance(features, pa.ChunkedArray):
            features = features.combine_chunks()
        relations, run_ids = relations.to_pylist(), run_ids.to_pylist()
        results: list = [None] * len(run_ids)
        rows_by_run: dict[tuple[str, str], list[int]] = {}
        for index, (relation, run_id) in enumerate(zip(relations, run_ids, strict=True)):
            if relation is not None and run_id is not None and features[index].is_valid:
                rows_by_run.setdefault((relation, run_id), []).append(index)
        for (relation, run_id), rows in rows_by_run.items():
            mixture = mixtures.mixture(relation, run_id)
            selected = features.take(pa.array(rows))
            matrix = selected.flatten().to_numpy(zero_copy_only=False).reshape(len(rows), -1)
            if matrix.shape[1] != mixture.n_features_in_:
                raise ValueError(
                    f"run {run_id!r} has {mixture.n_features_in_} features, "
                    f"got vectors of {matrix.shape[1]}"
                )
            for row, value in zip(rows, score(mixture, matrix).tolist(), strict=True):
                results[row] = value
        return pa.array(results, type=result_type)

    return udf


def register(connection: duckdb.DuckDBPyConnection) -> None:
    """Register the functions on a DuckDB connection."""
    mixtures = StoredMixtures(connection)
    arguments = [
        duckdb.sqltype("varchar"),
        duckdb.sqltype("varchar"),
        duckdb.sqltype("double[]"),
    ]
    connection.create_function(
        "gmm_membership_probabilities",
        _score_by_run(
            mixtures, lambda mixture, matrix: mixture.predict_proba(matrix), pa.list_(pa.float64())
        ),
        arguments,
        duckdb.sqltype("double[]"),
        type="arrow",
    )
    connection.create_function(
        "gmm_log_likelihood",
        _score_by_run(
            mixtures, lambda mixture, matrix: mixture.score_samples(matrix), pa.float64()
        ),
        arguments,
        duckdb.sqltype("double"),
        type="arrow",
    )
