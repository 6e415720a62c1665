"""Percentiles of every descriptor over each cluster of a run, exactly as DuckDB's
quantile_cont computes them, one run at a time so that memory stays at one run's
values (cluster_profiles). In SQL the same percentiles hold every value of every
(run, cluster, descriptor) group at once, in aggregate states DuckDB can neither
bound nor spill: at catalogue size that is several GB."""

from __future__ import annotations

import numpy as np

PROFILE_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 0.9)


def column_quantiles(
    values: np.ndarray, fractions=PROFILE_FRACTIONS
) -> tuple[np.ndarray, np.ndarray]:
    """(non-null count per column, fractions x columns percentiles) of a rows x columns
    matrix with NaN for null, bit for bit DuckDB's quantile_cont: with the column's n
    non-null values sorted, RN = (n - 1) q, and between the order statistics lo = x[floor
    RN] and hi = x[ceil RN] with d = RN - floor RN the value lo (1 - d) + hi d (DuckDB 1.5's
    interpolation; lo + (hi - lo) d differs in the last bit). A column without
    values has NaN percentiles."""
    ordered = np.sort(values, axis=0)  # NaN sorts last
    counts = np.count_nonzero(~np.isnan(ordered), axis=0)
    quantiles = np.full((len(fractions), values.shape[1]), np.nan)
    columns = np.flatnonzero(counts)
    for row, fraction in enumerate(fractions):
        position = (counts[columns] - 1).astype(float) * fraction
        below, above = np.floor(position), np.ceil(position)
        lo = ordered[below.astype(int), columns]
        hi = ordered[above.astype(int), columns]
        weight = position - below
        quantiles[row, columns] = np.where(above == below, lo, lo * (1 - weight) + hi * weight)
    return counts, quantiles


def cluster_quantiles(
    clusters: np.ndarray, values: np.ndarray, fractions=PROFILE_FRACTIONS
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """column_quantiles of the rows of every cluster: {cluster: (counts, quantiles)}."""
    order = np.argsort(clusters, kind="stable")
    labels, starts = np.unique(clusters[order], return_index=True)
    bounds = np.append(starts, len(order))
    return {
        int(label): column_quantiles(values[order[start:end]], fractions)
        for label, start, end in zip(labels, bounds[:-1], bounds[1:], strict=True)
    }
