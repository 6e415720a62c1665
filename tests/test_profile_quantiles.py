"""clustering.profiles computes cluster_profiles' percentiles in Python, one run at a time:
they must be DuckDB's quantile_cont bit for bit, nulls left out, cluster by cluster."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from clustering.profiles import PROFILE_FRACTIONS, cluster_quantiles, column_quantiles


def duckdb_quantiles(connection, clusters, values):
    """{cluster: (counts, quantiles)} of quantile_cont over each cluster and column."""
    rows, columns = values.shape
    connection.execute("create or replace table profile_values (cluster bigint, col int, v double)")
    cells = [
        (int(clusters[row]), col, None if np.isnan(values[row, col]) else float(values[row, col]))
        for row in range(rows)
        for col in range(columns)
    ]
    connection.executemany("insert into profile_values values (?, ?, ?)", cells)
    answer = connection.execute(
        f"select cluster, col, count(v), quantile_cont(v, {list(PROFILE_FRACTIONS)})"
        " from profile_values group by cluster, col order by cluster, col"
    ).fetchall()
    expected = {}
    for cluster, col, count, quantiles in answer:
        counts, table = expected.setdefault(
            cluster, (np.zeros(columns, int), np.full((len(PROFILE_FRACTIONS), columns), np.nan))
        )
        counts[col] = count
        if quantiles is not None:
            table[:, col] = quantiles
    return expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cluster_quantiles_are_duckdb_quantile_cont_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(50, 300))
    # Scales from 1e-5 to 1e5, rounded columns (ties), nulls, and a column null in one
    # cluster: every branch of the interpolation.
    values = rng.standard_normal((rows, 4)) * 10.0 ** rng.integers(-5, 6, size=4)
    values[:, 1] = np.round(values[:, 1], 1)
    values[rng.random(rows) < 0.2, 2] = np.nan
    clusters = rng.integers(0, 5, size=rows)
    values[clusters == 3, 3] = np.nan
    with duckdb.connect() as connection:
        expected = duckdb_quantiles(connection, clusters, values)
    computed = cluster_quantiles(clusters, values)
    assert sorted(computed) == sorted(expected)
    for cluster, (counts, quantiles) in computed.items():
        np.testing.assert_array_equal(counts, expected[cluster][0])
        # bit for bit, NaN where quantile_cont gives null
        np.testing.assert_array_equal(quantiles, expected[cluster][1])


def test_single_value_and_two_values():
    counts, quantiles = column_quantiles(np.array([[3.0, 1.0], [np.nan, 2.0]]))
    assert counts.tolist() == [1, 2]
    assert quantiles[:, 0].tolist() == [3.0] * 5
    assert quantiles[:, 1].tolist() == [1.1, 1.25, 1.5, 1.75, 1.9]
