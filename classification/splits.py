"""Training and test splits of the labelled data, seeded and stratified by class.

By source: all detections of a source fall on one side, so the test measures how well
new sources are classified (detections of one source are alike; on both sides they would
flatter every figure). By detection: the follow-up study's own 80/20 split, for a
like-for-like comparison with its published figures. A class with a single member cannot
be stratified and goes to training; a test set too small to hold every class is drawn
without stratification.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split


def stratified_test_members(
    members: np.ndarray, strata: np.ndarray, test_fraction: float, seed: int
) -> set:
    """The members drawn for the test set, stratified by stratum (members in a given
    order: the draw depends on it)."""
    members, strata = np.asarray(members), np.asarray(strata)
    values, counts = np.unique(strata, return_counts=True)
    splittable = np.isin(strata, values[counts >= 2])
    if splittable.sum() < 2:
        return set()
    n_test = int(np.ceil(test_fraction * splittable.sum()))
    stratify = strata[splittable] if n_test >= len(values[counts >= 2]) else None
    _, test = train_test_split(
        members[splittable], test_size=test_fraction, stratify=stratify, random_state=seed
    )
    return set(test.tolist())
