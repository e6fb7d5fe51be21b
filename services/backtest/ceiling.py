"""The ceiling: the best a classifier does on the same features at the same cut-offs.

Cross-validated out-of-fold predictions, so every sample is scored by a model
that never saw it; folds are grouped by account, so the negatives of one
retained account (one per snapshot) never sit on both sides of a split. Two
well-known learners from scikit-learn: a regularised logistic regression (a
linear ceiling) and histogram gradient boosting (a non-linear one). The better
one (by ROC AUC) is "the ceiling".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FOLDS = 5


@dataclass(frozen=True)
class CeilingResult:
    name: str
    auc: float
    predictions: npt.NDArray[np.float64]


def _learners() -> dict[str, object]:
    return {
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, C=1.0)
        ),
        "gradient_boosting": HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.08, random_state=0
        ),
    }


def cross_validated(
    features: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    groups: npt.NDArray[np.int64],
) -> list[CeilingResult]:
    """Out-of-fold churn probabilities of each learner, best first."""
    folds = GroupKFold(n_splits=min(FOLDS, len(set(groups.tolist()))))
    results = []
    for name, learner in _learners().items():
        predictions = np.zeros(len(labels))
        for train, test in folds.split(features, labels, groups):
            if len(set(labels[train].tolist())) < 2:
                predictions[test] = labels[train].mean()
                continue
            learner.fit(features[train], labels[train])  # type: ignore[attr-defined]
            predictions[test] = learner.predict_proba(features[test])[:, 1]  # type: ignore[attr-defined]
        results.append(CeilingResult(name, float(roc_auc_score(labels, predictions)), predictions))
    results.sort(key=lambda r: -r.auc)
    return results
