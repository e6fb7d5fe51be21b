"""The backtest's figures: the score, a recency baseline and the ceiling, side by side.

Definitions (all on the same samples, see ``samples``):

- **AUC at T-h**: ROC AUC of each ranking (100 - score; days since last
  activity; the ceiling's out-of-fold probability) separating churners at *h*
  days before cancellation from retained accounts at the snapshot days.
- **recall at 20 % FAR**: the share of those churners a ranking catches when
  its threshold flags 20 % of the retained samples.
- **alert recall at >= h days lead**: churners with a risk alert in
  ``[T - LOOKBACK, T - h]``; **alert false-alarm rate**: retained samples with
  a risk alert in the same-length window before their cut-off. The ceiling's
  and the baseline's recall *at that same false-alarm rate* is the fair comparison.
- **median lead**: for churners alerted in ``[T - LOOKBACK, T)``, days from
  their first such alert to the cancellation.
- **alerts per account-month**: risk alerts after the warm-up over the
  account-months alive after it (from creation or the warm-up to churn or end).
- **at-risk list precision**: at each snapshot, the share of accounts below
  the alert threshold that cancel within ``LIST_HORIZON`` days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from statistics import median
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score, roc_curve

from services.backtest.ceiling import cross_validated
from services.backtest.history import RISK_ALERTS, History
from services.backtest.samples import SNAPSHOT_DAYS, FeatureTable, Samples, churn_days, samples
from services.backtest.samples import score_at as _score_at
from streams.domain.scoring.windows import DAY_SECONDS

LOOKBACK_DAYS = 90
LIST_HORIZON = 60
FAR_TARGET = 0.2
HORIZONS = (30, 7)

Array = npt.NDArray[np.float64]
Progress = Callable[[str], None]


def recall_at_far(labels: npt.NDArray[np.int64], risk: Array, far: float) -> float:
    """True-positive rate at the highest threshold whose false-positive rate is <= ``far``."""
    fpr, tpr, _ = roc_curve(labels, risk)
    ok = fpr <= far + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


class AlertIndex:
    """Risk-alert times per account, for "was it alerted in this window" questions."""

    def __init__(self, history: History) -> None:
        per: dict[int, list[int]] = {}
        self.types: Counter[str] = Counter()
        for i, at_s, kind in history.alerts:
            if kind in RISK_ALERTS:
                per.setdefault(i, []).append(at_s)
        self.times = {i: sorted(ts) for i, ts in per.items()}

    def any_in(self, i: int, lo_s: int, hi_s: int) -> bool:
        times = self.times.get(i)
        return bool(times) and bisect_left(times, lo_s) < bisect_right(times, hi_s)  # type: ignore[arg-type]

    def first_in(self, i: int, lo_s: int, hi_s: int) -> int | None:
        times = self.times.get(i, [])
        j = bisect_left(times, lo_s)
        return times[j] if j < len(times) and times[j] < hi_s else None


def evaluate(
    history: History,
    *,
    warm_up: int,
    threshold: float,
    progress: Progress | None = None,
    sample_filter: Callable[[Samples], Samples] | None = None,
) -> dict[str, Any]:
    """Every figure of the report, as plain JSON-able data."""
    table = FeatureTable(history)
    alerts = AlertIndex(history)
    day0 = history.first_day * DAY_SECONDS
    out: dict[str, Any] = {"horizons": {}}
    for horizon in HORIZONS:
        s = samples(history, horizon, warm_up)
        if sample_filter is not None:
            s = sample_filter(s)
        if s.positives < 2 or s.negatives < 2:
            out["horizons"][str(horizon)] = {"positives": s.positives, "negatives": s.negatives}
            continue
        if progress is not None:
            progress(f"  T-{horizon} d: {s.positives} churners, {s.negatives} retained samples")
        features, names = table.matrix(s.rows, s.days)
        ceilings = cross_validated(features, s.labels, s.rows)
        risks = {
            "score": 100.0 - _score_at(history, s.rows, s.days),
            "recency": table.recency(s.rows, s.days),
            "ceiling": ceilings[0].predictions,
        }
        flagged = _alerted(alerts, s, horizon, day0)
        far = float(flagged[s.labels == 0].mean())
        out["horizons"][str(horizon)] = {
            "positives": s.positives,
            "negatives": s.negatives,
            "auc": {k: float(roc_auc_score(s.labels, r)) for k, r in risks.items()}
            | {f"ceiling_{c.name}": c.auc for c in ceilings},
            "recall_at_far_20": {
                k: recall_at_far(s.labels, r, FAR_TARGET) for k, r in risks.items()
            },
            "alerts": {
                "recall": float(flagged[s.labels == 1].mean()),
                "false_alarm_rate": far,
                "recall_at_same_far": {
                    k: recall_at_far(s.labels, r, far) for k, r in risks.items() if k != "score"
                },
            },
            "distributions": {
                "churners": _score_at(history, s.rows, s.days)[s.labels == 1].tolist(),
                "retained": _score_at(history, s.rows, s.days)[s.labels == 0].tolist(),
            },
            "lift": {k: _lift(s.labels, r) for k, r in risks.items()},
            "features": names,
        }
    out["alerts"] = _alert_figures(history, alerts, warm_up)
    out["at_risk_list"] = _list_precision(history, warm_up, threshold)
    return out


def _alerted(alerts: AlertIndex, s: Samples, horizon: int, day0: int) -> npt.NDArray[np.bool_]:
    """Per sample: a risk alert in the ``LOOKBACK - horizon`` days up to its cut-off."""
    width = (LOOKBACK_DAYS - horizon) * DAY_SECONDS
    return np.asarray(
        [
            alerts.any_in(int(i), day0 + int(k) * DAY_SECONDS - width, day0 + int(k) * DAY_SECONDS)
            for i, k in zip(s.rows, s.days, strict=True)
        ],
        dtype=bool,
    )


def _lift(labels: npt.NDArray[np.int64], risk: Array, points: int = 20) -> list[float]:
    """Cumulative share of churners caught in the riskiest 5 %, 10 %, ... of samples."""
    order = np.argsort(-risk, kind="stable")
    caught = np.cumsum(labels[order]) / max(1, labels.sum())
    n = len(labels)
    return [float(caught[max(0, int(n * q / points) - 1)]) for q in range(1, points + 1)]


def _alert_figures(history: History, alerts: AlertIndex, warm_up: int) -> dict[str, Any]:
    day0 = history.first_day * DAY_SECONDS
    churn = churn_days(history)
    leads: list[float] = []
    for i, day in churn.items():
        if day < warm_up:
            continue
        cancel_s = history.outcomes[i].at_s
        first = alerts.first_in(i, cancel_s - LOOKBACK_DAYS * DAY_SECONDS, cancel_s)
        if first is not None:
            leads.append((cancel_s - first) / DAY_SECONDS)
    after = day0 + warm_up * DAY_SECONDS
    counted = Counter(kind for i, at_s, kind in history.alerts if at_s >= after)
    risk_total = sum(n for kind, n in counted.items() if kind in RISK_ALERTS)
    alive_days = 0.0
    retained_alerted = retained = 0
    for i in range(len(history.account_ids)):
        begin = max(float(warm_up), float(history.created_day[i]))
        end = float(churn.get(i, history.days))
        alive_days += max(0.0, end - begin)
        if i not in churn and begin < history.days:
            retained += 1
            retained_alerted += alerts.any_in(i, after, day0 + history.days * DAY_SECONDS)
    return {
        "per_account_month": risk_total / max(1e-9, alive_days / 30.44),
        "median_lead_days": median(leads) if leads else None,
        "lead_days": leads,
        "churners_alerted_within_lookback": len(leads),
        "retained_alerted_share": retained_alerted / max(1, retained),
        "by_type": dict(sorted(counted.items())),
    }


def _list_precision(history: History, warm_up: int, threshold: float) -> dict[str, Any]:
    churn = churn_days(history)
    cancel = np.full(len(history.account_ids), np.inf)
    for i, day in churn.items():
        cancel[i] = day
    hits = listed = alive_total = churn_total = 0
    for k in range(warm_up, history.days - LIST_HORIZON, SNAPSHOT_DAYS):
        alive = (history.created_day < k) & (cancel >= k)
        scores = history.scores[:, k]
        at_risk = alive & (scores < threshold)
        soon = cancel < k + LIST_HORIZON
        listed += int(at_risk.sum())
        hits += int((at_risk & soon).sum())
        alive_total += int(alive.sum())
        churn_total += int((alive & soon).sum())
    return {
        "precision": hits / listed if listed else None,
        "base_rate": churn_total / alive_total if alive_total else None,
        "mean_size": listed
        / max(1, len(range(warm_up, history.days - LIST_HORIZON, SNAPSHOT_DAYS))),
        "horizon_days": LIST_HORIZON,
    }
