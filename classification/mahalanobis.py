"""The published method (Pérez-Díaz et al. 2024, arXiv 2401.12203), cluster by cluster.

In every cluster of the classification run, each class with at least as many labelled
detections there as there are features gets their mean and sample covariance (ddof = 1);
a detection of the cluster is then at the squared Mahalanobis distance

    d_c = (x - mean_c)^T pinv(cov_c) (x - mean_c)

from class c (pseudo-inverse: a class's covariance may be singular), and a class with too
few members is infinitely far. Class probabilities are the softmin of the distances,
exp(-|d_c|) / sum exp(-|d|) (the study takes |d| against rounding), computed in log space
so that large distances do not underflow to 0/0. Where every class is infinitely far the
detection gets no class, and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import pinv
from scipy.special import logsumexp


@dataclass(frozen=True)
class ClassStatistics:
    mean: np.ndarray
    pseudo_inverse: np.ndarray
    n_members: int


@dataclass(frozen=True)
class Scores:
    """Per detection and class: probabilities (NaN where no class), squared distances
    (inf where the class is too small in the detection's cluster); why a row has none."""

    probabilities: np.ndarray
    squared_distances: np.ndarray
    no_class_reasons: list[str | None]


@dataclass(frozen=True)
class MahalanobisClassifier:
    classes: tuple[str, ...]
    n_features: int
    # (cluster, class) -> the class's statistics in the cluster, where it has enough members
    statistics: dict[tuple[int, str], ClassStatistics]

    @classmethod
    def fit(
        cls, features: np.ndarray, clusters: np.ndarray, labels: np.ndarray, classes: tuple
    ) -> MahalanobisClassifier:
        """Statistics of every class in every cluster from labelled rows (labels[i] is a
        class, or anything else for a row that is not a class member)."""
        features, clusters, labels = map(np.asarray, (features, clusters, labels))
        n_features = features.shape[1]
        statistics = {}
        for cluster in np.unique(clusters):
            for name in classes:
                members = features[(clusters == cluster) & (labels == name)]
                if len(members) >= n_features and len(members) > 1:
                    statistics[(int(cluster), name)] = ClassStatistics(
                        mean=members.mean(axis=0),
                        pseudo_inverse=pinv(np.cov(members.T, ddof=1).reshape(n_features, -1)),
                        n_members=len(members),
                    )
        return cls(tuple(classes), n_features, statistics)

    def squared_distances(self, features: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        features, clusters = np.asarray(features, dtype=float), np.asarray(clusters)
        distances = np.full((len(features), len(self.classes)), np.inf)
        for (cluster, name), stats in self.statistics.items():
            rows = clusters == cluster
            centred = features[rows] - stats.mean
            distances[rows, self.classes.index(name)] = np.einsum(
                "ij,jk,ik->i", centred, stats.pseudo_inverse, centred
            )
        return distances

    def score(self, features: np.ndarray, clusters: np.ndarray) -> Scores:
        distances = self.squared_distances(features, clusters)
        log_weights = -np.abs(distances)
        normaliser = logsumexp(log_weights, axis=1, keepdims=True)
        no_class = ~np.isfinite(normaliser[:, 0])
        probabilities = np.full(distances.shape, np.nan)
        probabilities[~no_class] = np.exp(log_weights[~no_class] - normaliser[~no_class])
        reasons = [
            f"no class has {self.n_features} or more labelled detections (one per feature)"
            f" in cluster {int(cluster)}"
            if missing
            else None
            for cluster, missing in zip(np.asarray(clusters), no_class, strict=True)
        ]
        return Scores(probabilities, distances, reasons)
