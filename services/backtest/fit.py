"""Learning dimension weights and the alert threshold from churn outcomes.

The Gainsight "Scorecard Optimizer" idea, done openly: take the per-dimension
scores every account had at the training cut-offs (``samples``), and find the
weights for which the score - computed exactly as the engine does, a weighted
mean over the dimensions that have data - best separates the accounts that
cancelled ``horizon`` days later from the retained ones. The fit is a
logistic regression of churn on the score, ``P = sigmoid(a + b (50 - score) / 10)``,
with the weights as free, non-negative parameters, solved with SciPy's
L-BFGS-B and a small L2 pull towards the starting weights so a dimension
without signal keeps its prior weight rather than an arbitrary one.

The alert threshold is the whole-point score under which at most
``MAX_TRAINING_FAR`` of the retained training samples fall (the false alarms a
CSM team accepts), the re-arm level sits ``REARM_GAP`` above it.

Only cut-offs whose outcome is known before ``split_day`` are used, so the
held-back period after it is a fair test of the fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from services.backtest.history import History
from services.backtest.samples import Samples, samples
from streams.domain.scoring.model import ScoringModel

MAX_TRAINING_FAR = 0.05
"""A page to a CSM about one retained account in twenty at any time is about
what a team follows up (the default model's alerts run at 4-5 %); more buries
the real ones, and a threshold fitted to flag 15 % alerted a third of the
retained accounts within a year."""
REARM_GAP = 5.0
PRIOR_PULL = 1e-3

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FitResult:
    weights: dict[str, float]
    threshold: float
    training_auc: float
    training_samples: tuple[int, int]


def training_samples(history: History, horizon: int, warm_up: int, split_day: int) -> Samples:
    """The samples whose outcome window closes before ``split_day``."""
    s = samples(history, horizon, warm_up)
    keep = s.days + horizon <= split_day
    return Samples(s.rows[keep], s.days[keep], s.labels[keep])


def weighted_scores(dims: Array, weights: Array) -> Array:
    """The engine's score for each row: the weighted mean of the dimensions with data."""
    have = ~np.isnan(dims)
    values = np.where(have, dims, 0.0)
    mass = have @ weights
    return np.where(mass > 0, (values @ weights) / np.maximum(mass, 1e-12), 50.0)


def fit_weights(history: History, s: Samples, model: ScoringModel) -> FitResult:
    names = [d.name for d in model.dimensions]
    dims = np.column_stack([history.dims[name][s.rows, s.days] for name in names])
    prior = np.asarray([model.default_weights.get(n, 0.0) for n in names], dtype=np.float64)
    prior = prior / max(prior.sum(), 1e-12)
    y = s.labels.astype(np.float64)
    balance = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))

    def loss(params: Array) -> float:
        a, b, w = params[0], params[1], params[2:]
        score = weighted_scores(dims, w)
        z = a + b * (50.0 - score) / 10.0
        nll = np.logaddexp(0.0, z) - y * z
        return float((balance * nll).mean() + PRIOR_PULL * np.sum((w - prior) ** 2) * 100)

    start = np.concatenate([[0.0, 1.0], prior])
    bounds = [(None, None), (0.0, None)] + [(0.0, 1.0)] * len(names)
    solution = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
    w = np.clip(solution.x[2:], 0.0, None)
    if w.sum() <= 0:
        w = prior
    weights: dict[str, float] = {
        n: round(float(v / w.sum() * 100), 1) for n, v in zip(names, w, strict=True)
    }
    score = weighted_scores(dims, np.asarray([weights[n] for n in names]))
    return FitResult(
        weights=weights,
        threshold=_threshold(score, s.labels),
        training_auc=_auc(s.labels, -score),
        training_samples=(s.positives, s.negatives),
    )


def _threshold(score: Array, labels: npt.NDArray[np.int64]) -> float:
    retained = np.sort(score[labels == 0])
    if len(retained) == 0:
        return 60.0
    cut = retained[int(len(retained) * MAX_TRAINING_FAR)]
    return float(max(5.0, min(90.0, np.floor(cut))))


def _auc(labels: npt.NDArray[np.int64], risk: Array) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, risk))


def fitted_model_doc(base: dict[str, Any], fit: FitResult, version: str) -> dict[str, Any]:
    """The base model document with the fitted weights and threshold.

    Every segment gets the fitted weights, except that a dimension a segment
    weighs 0 (payment status for free accounts) stays at 0: that is a fact
    about the segment, not something the data can learn. The one fitted
    threshold replaces the per-segment ones."""
    doc = dict(base)
    doc["version"] = version
    weights = dict(doc.get("weights", {}))
    weights["default"] = dict(fit.weights)
    segments = {}
    for segment, override in (weights.get("segments") or {}).items():
        zeroes = {k: 0 for k, v in (override or {}).items() if v == 0}
        if zeroes:
            segments[segment] = zeroes
    weights["segments"] = segments
    doc["weights"] = weights
    alerts = dict(doc.get("alerts", {}))
    alerts["threshold"] = fit.threshold
    alerts["rearm"] = min(100.0, fit.threshold + REARM_GAP)
    # One threshold was learned for every account: per-segment overrides of the
    # base model were set against its threshold, not this one.
    alerts.pop("segments", None)
    # A drop episode must end above where a drop can fire (below the healthy band).
    alerts["sudden_drop_rearm"] = max(
        float(alerts.get("sudden_drop_rearm", 85)), min(100.0, fit.threshold + 2 * REARM_GAP)
    )
    doc["alerts"] = alerts
    bands = dict(doc.get("bands", {}))
    bands["at_risk"] = fit.threshold
    bands["healthy"] = max(float(bands.get("healthy", 75)), fit.threshold)
    doc["bands"] = bands
    return doc
