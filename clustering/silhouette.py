"""The silhouette score (euclidean), as scikit-learn's silhouette_score defines it, by
matrix products over row chunks.

For detection i in cluster A: a(i) is its mean distance to the other members of A, b(i)
the smallest mean distance to the members of another cluster, s(i) = (b - a) / max(a, b),
and s(i) = 0 when A has one member; the score is the mean of s. Distances are
sqrt(|x|^2 + |y|^2 - 2 x.y), clipped at 0, the diagonal 0 (scikit-learn's own formula);
the per-cluster sums of a chunk's distances are one product with the cluster indicator
matrix. Memory is O(chunk_rows n), time O(n^2 d) in large products: for 10,000
detections of 35 features this is several times faster than silhouette_score, and equal
to it within rounding.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 128


def silhouette(matrix: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette coefficient; needs 2 <= number of clusters <= n - 1."""
    matrix = np.asarray(matrix, dtype=float)
    clusters, codes = np.unique(np.asarray(labels), return_inverse=True)
    if not 2 <= len(clusters) <= len(matrix) - 1:
        raise ValueError(f"{len(clusters)} clusters of {len(matrix)} detections: no silhouette")
    members = np.bincount(codes, minlength=len(clusters)).astype(float)
    indicator = np.zeros((len(matrix), len(clusters)))
    indicator[np.arange(len(matrix)), codes] = 1.0
    squared_norms = np.einsum("ij,ij->i", matrix, matrix)
    scores = np.empty(len(matrix))
    for start in range(0, len(matrix), CHUNK_ROWS):
        rows = slice(start, min(start + CHUNK_ROWS, len(matrix)))
        # in place, pass by pass over a chunk small enough to stay in cache
        squared = matrix[rows] @ matrix.T
        squared *= -2
        squared += squared_norms[rows, None]
        squared += squared_norms
        np.maximum(squared, 0, out=squared)
        distances = np.sqrt(squared, out=squared)
        own = codes[rows]
        distances[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = 0
        sums = distances @ indicator
        chunk = np.arange(len(own))
        intra = sums[chunk, own] / np.maximum(members[own] - 1, 1)
        sums[chunk, own] = np.inf
        inter = np.min(sums / members, axis=1)
        with np.errstate(invalid="ignore"):
            value = (inter - intra) / np.maximum(intra, inter)
        scores[rows] = np.where(members[own] > 1, np.nan_to_num(value), 0.0)
    return float(np.mean(scores))
