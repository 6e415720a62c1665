"""A supervised classifier beside the published method: scikit-learn's histogram gradient
boosting on the same features, its probabilities calibrated by isotonic regression.

The boosting is fitted on one part of the training sources and calibrated on the rest
(var classification.calibration_fraction of the sources, whole sources to either side:
a source on both sides would flatter the calibration), so each training costs one fit.
Calibration is one-vs-rest, as scikit-learn's CalibratedClassifierCV does: per class an
isotonic map of its predicted probability to the observed frequency, then the row
normalised to sum to 1 (uniform where every calibrated probability is 0). A class the
calibration part happens not to hold keeps its uncalibrated probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupShuffleSplit


@dataclass(frozen=True)
class BoostingClassifier:
    classes: tuple[str, ...]
    boosting: HistGradientBoostingClassifier
    # One isotonic map per class of boosting.classes_, or None for an uncalibrated class.
    calibrators: tuple[IsotonicRegression | None, ...]

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        sources: np.ndarray,
        classes: tuple[str, ...],
        params: dict[str, Any],
        calibration_fraction: float,
        seed: int,
    ) -> BoostingClassifier:
        """Fit on labelled rows only (labels are classes); sources keep detections together."""
        features, labels = np.asarray(features, dtype=float), np.asarray(labels)
        splitter = GroupShuffleSplit(n_splits=1, test_size=calibration_fraction, random_state=seed)
        fitted_rows, calibration_rows = next(splitter.split(features, labels, groups=sources))
        boosting = HistGradientBoostingClassifier(**params)
        boosting.fit(features[fitted_rows], labels[fitted_rows])
        predicted = boosting.predict_proba(features[calibration_rows])
        observed = labels[calibration_rows]
        calibrators = tuple(
            IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
                predicted[:, column], observed == name
            )
            if np.any(observed == name)
            else None
            for column, name in enumerate(boosting.classes_)
        )
        return cls(tuple(classes), boosting, calibrators)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Per row, the calibrated probability of every class in `classes` order (0 for a
        class the training data did not have)."""
        raw = self.boosting.predict_proba(np.asarray(features, dtype=float))
        calibrated = np.column_stack(
            [
                raw[:, column] if calibrator is None else calibrator.predict(raw[:, column])
                for column, calibrator in enumerate(self.calibrators)
            ]
        )
        totals = calibrated.sum(axis=1, keepdims=True)
        calibrated = np.divide(
            calibrated,
            totals,
            out=np.full_like(calibrated, 1 / calibrated.shape[1]),
            where=totals > 0,
        )
        probabilities = np.zeros((len(raw), len(self.classes)))
        for column, name in enumerate(self.boosting.classes_):
            probabilities[:, self.classes.index(name)] = calibrated[:, column]
        return probabilities
