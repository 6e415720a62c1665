"""A supervised classifier beside the published method: scikit-learn's histogram gradient
boosting on the same features, its probabilities calibrated by isotonic regression.

The boosting is fitted on one part of the training sources and calibrated on the rest
(var classification.calibration_fraction of the sources, whole sources to either side:
a source on both sides would flatter the calibration), so each training costs one fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GroupShuffleSplit, KFold


@dataclass(frozen=True)
class BoostingClassifier:
    classes: tuple[str, ...]
    model: CalibratedClassifierCV

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
        # The frozen model's predictions do not depend on the folds: one calibrator per
        # class, fitted on every calibration row.
        model = CalibratedClassifierCV(
            FrozenEstimator(boosting), method="isotonic", cv=KFold(n_splits=2)
        )
        model.fit(features[calibration_rows], labels[calibration_rows])
        return cls(tuple(classes), model)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Per row, the probability of every class in `classes` order (0 for a class the
        training data did not have)."""
        raw = self.model.predict_proba(np.asarray(features, dtype=float))
        probabilities = np.zeros((len(raw), len(self.classes)))
        for column, name in enumerate(self.model.classes_):
            probabilities[:, self.classes.index(name)] = raw[:, column]
        return probabilities
