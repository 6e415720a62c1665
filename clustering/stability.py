"""How far a run's clusters move when it is refitted with another seed."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from clustering.alignment import align_components


def compare_with_run(
    refit_labels: np.ndarray, run_labels: np.ndarray, n_components: int
) -> tuple[float, float]:
    """(adjusted Rand index, aligned agreement) of a refit's clusters against the run's.

    The aligned agreement is the share of detections whose refit cluster, its components
    aligned to the run's (align_components), is the run's cluster.
    """
    to_run = align_components(refit_labels, run_labels, n_components)
    aligned = np.array([to_run[int(label)] for label in refit_labels])
    return (
        float(adjusted_rand_score(run_labels, refit_labels)),
        float(np.mean(aligned == run_labels)),
    )
