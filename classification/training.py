"""What each stored class model is trained on, and how every classifier is fitted and
scored, from plain arrays: the glue between the warehouse's tables and the classifiers.

Three trainings per classifier: `all_labels` (every labelled detection; the model that
classifies the unlabelled and new detections), `source_split` and `detection_split` (the
training side of each validation split, scored on its test side).
"""

from __future__ import annotations

import os
import pickle
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from classification.mahalanobis import MahalanobisClassifier
from classification.splits import stratified_test_members
from classification.supervised import BoostingClassifier
from clustering.threads import hold_thread_to_one

CLASSIFIERS = ("mahalanobis", "gradient_boosting")
TRAININGS = ("all_labels", "source_split", "detection_split")
SPLITS = {"source_split": "sources", "detection_split": "detections"}


@dataclass(frozen=True)
class Labelled:
    """The labelled detections, in detection-id order."""

    detection_ids: np.ndarray
    sources: np.ndarray
    classes: np.ndarray


def source_strata(labelled: Labelled) -> dict[str, str]:
    """Each source's class for stratifying: the most common among its detections (ties:
    the first alphabetically)."""
    by_source: dict[str, Counter] = {}
    for source, name in zip(labelled.sources, labelled.classes, strict=True):
        by_source.setdefault(source, Counter())[name] += 1
    return {
        source: min(counts, key=lambda name: (-counts[name], name))
        for source, counts in by_source.items()
    }


def test_detections(labelled: Labelled, split: str, test_fraction: float, seed: int) -> set:
    """The detection ids on the test side of a split ("sources" or "detections")."""
    if split == "detections":
        return stratified_test_members(
            labelled.detection_ids, labelled.classes, test_fraction, seed
        )
    strata = source_strata(labelled)
    sources = np.array(sorted(strata))
    test_sources = stratified_test_members(
        sources, np.array([strata[source] for source in sources]), test_fraction, seed
    )
    return {
        detection
        for detection, source in zip(labelled.detection_ids, labelled.sources, strict=True)
        if source in test_sources
    }


class CannotFit(ValueError):
    """The training data cannot support the classifier (the message says why)."""


def fit_classifier(
    classifier: str,
    features: np.ndarray,
    clusters: np.ndarray,
    labels: np.ndarray,
    sources: np.ndarray,
    classes: tuple[str, ...],
    config: dict[str, Any],
):
    """One classifier fitted on labelled rows (features, clusters, labels, sources); raises
    CannotFit when the rows cannot support it."""
    if classifier == "mahalanobis":
        return MahalanobisClassifier.fit(features, clusters, labels, classes)
    present = np.unique(labels)
    if len(present) < 2 or len(np.unique(sources)) < 4:
        raise CannotFit(
            f"{len(labels)} labelled detection(s) of {len(np.unique(sources))} source(s) in"
            f" {len(present)} class(es): boosting needs two classes or more, and sources to"
            " fit and to calibrate on"
        )
    return BoostingClassifier.fit(
        features,
        labels,
        sources,
        classes,
        config["gradient_boosting"],
        config["calibration_fraction"],
        config["split_seed"],
    )


def fit_models(
    features: np.ndarray,
    clusters: np.ndarray,
    labels: np.ndarray,
    sources: np.ndarray,
    trainings: dict[str, np.ndarray],
    classes: tuple[str, ...],
    config: dict[str, Any],
) -> dict[tuple[str, str], Any | str]:
    """(classifier, training) -> fitted model, or the reason it cannot be fitted, for every
    classifier and training (a mask of the labelled rows it is fitted on), side by side on
    all cores (one BLAS thread each, as the mixtures fit)."""
    jobs = [(classifier, training) for training in trainings for classifier in CLASSIFIERS]

    def fit(job: tuple[str, str]):
        classifier, training = job
        rows = trainings[training]
        try:
            return fit_classifier(
                classifier, features[rows], clusters[rows], labels[rows], sources[rows],
                classes, config,
            )  # fmt: skip
        except CannotFit as reason:
            return str(reason)

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, initializer=hold_thread_to_one) as pool:
        return dict(zip(jobs, pool.map(fit, jobs), strict=True))


def score_classifier(model, features: np.ndarray, clusters: np.ndarray):
    """(probabilities, squared distances or None, no-class reasons) of every row."""
    if isinstance(model, MahalanobisClassifier):
        scores = model.score(features, clusters)
        return scores.probabilities, scores.squared_distances, scores.no_class_reasons
    return model.probabilities(features), None, [None] * len(features)


def to_bytes(model) -> bytes:
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def from_bytes(blob: bytes):
    """A stored model (written by this project's build into its own warehouse)."""
    return pickle.loads(blob)  # noqa: S301
