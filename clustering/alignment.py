"""Giving the components of different runs (and seeds) the labels of one reference run."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def align_components(
    labels: np.ndarray, reference_labels: np.ndarray, n_components: int
) -> dict[int, int]:
    """Component number -> aligned label, matching a run's components to a reference's.

    Mixture component numbers are arbitrary. An optimal assignment (Hungarian, on the
    number of detections two clusters share) gives each component the label of the
    reference cluster it overlaps most as a whole. Components left over (the run has more
    than the reference, or a component is nobody's most probable one) get the smallest free
    labels, largest first. labels and reference_labels hold the same detections, in one
    order.
    """
    labels, reference_labels = np.asarray(labels), np.asarray(reference_labels)
    components, reference = np.unique(labels), np.unique(reference_labels)
    shared = np.zeros((len(components), len(reference)), dtype=np.int64)
    np.add.at(
        shared,
        (np.searchsorted(components, labels), np.searchsorted(reference, reference_labels)),
        1,
    )
    rows, columns = linear_sum_assignment(shared, maximize=True)
    aligned = {
        int(components[row]): int(reference[column])
        for row, column in zip(rows, columns, strict=True)
    }
    sizes = np.bincount(labels, minlength=n_components)
    leftovers = sorted(
        (component for component in range(n_components) if component not in aligned),
        key=lambda component: (-sizes[component], component),
    )
    used = set(aligned.values())
    free_labels = (label for label in range(n_components + len(reference)) if label not in used)
    aligned.update(zip(leftovers, free_labels, strict=False))
    return aligned
