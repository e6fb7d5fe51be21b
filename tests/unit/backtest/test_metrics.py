"""Backtest figures on small hand-made histories whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from services.backtest.fit import _threshold, weighted_scores
from services.backtest.history import History, Outcome
from services.backtest.metrics import AlertIndex, evaluate, recall_at_far
from services.backtest.samples import FeatureTable, samples
from streams.domain.scoring.windows import DAY_SECONDS

FIRST_DAY = 20_000


def make_history(accounts: int = 40, days: int = 200, churners: int = 10) -> History:
    """Churners go silent 40 days before they cancel on day 150 and their score
    falls with them; the retained are active daily with a steady score."""
    n = accounts
    usage = np.zeros((n, days))
    usage[:, :] = 3
    scores = np.full((n, days), 90.0)
    outcomes = {}
    alerts = []
    for i in range(churners):
        usage[i, 110:] = 0
        scores[i, 111:] = np.linspace(80, 20, days - 111)
        outcomes[i] = Outcome((FIRST_DAY + 150) * DAY_SECONDS, "low_usage")
        alerts.append((i, (FIRST_DAY + 120) * DAY_SECONDS, "health_below_threshold"))
    alerts.append((n - 1, (FIRST_DAY + 100) * DAY_SECONDS, "inactivity"))  # one false alarm
    raw = {
        name: np.zeros((n, days))
        for name in (
            "features",
            "records",
            "tickets",
            "urgent",
            "reopened",
            "low_csat",
            "failed",
            "paid",
        )
    }
    raw["usage"] = usage
    raw["nps"] = np.full((n, days), np.nan)
    raw["seats"] = np.full((n, days), np.nan)
    return History(
        account_ids=[f"a{i}" for i in range(n)],
        first_day=FIRST_DAY,
        days=days,
        scores=scores,
        dims={"nps": np.full((n, days), np.nan)},
        raw=raw,
        alerts=alerts,
        outcomes=outcomes,
        segments=["smb"] * n,
        arr_cents=np.full(n, 1_000_000.0),
        created_day=np.full(n, -400.0),
        events=0,
    )


def test_samples_put_churners_at_t_minus_horizon_and_retained_at_snapshots() -> None:
    s = samples(make_history(), horizon=30, warm_up=60)
    assert s.positives == 10 and set(s.days[s.labels == 1].tolist()) == {120}
    negative_days = sorted(set(s.days[s.labels == 0].tolist()))
    assert negative_days[0] == 60 and negative_days[-1] < 200 - 30


def test_retained_cut_offs_fall_on_every_weekday_like_the_churners() -> None:
    """A churner's T-30 d is any weekday; if every retained sample fell on one
    weekday, a weekly rhythm (the weekend gap in recency) would rank by calendar."""
    s = samples(make_history(accounts=70), horizon=30, warm_up=60)
    weekdays = np.bincount((s.days[s.labels == 0] + FIRST_DAY) % 7, minlength=7)
    assert weekdays.min() >= 0.8 * weekdays.max()


def test_recency_counts_the_days_since_the_last_usage_before_the_cut_off() -> None:
    table = FeatureTable(make_history())
    rows, days = np.asarray([0, 0, 39]), np.asarray([110, 130, 130])
    assert table.recency(rows, days).tolist() == [1.0, 21.0, 1.0]


def test_recall_at_far_reads_the_roc_curve() -> None:
    labels = np.asarray([1, 1, 0, 0, 0, 0, 0])
    risk = np.asarray([0.9, 0.2, 0.8, 0.1, 0.1, 0.1, 0.1])
    assert recall_at_far(labels, risk, 0.2) == 1.0  # flags 0.9, 0.8, 0.2
    assert recall_at_far(labels, risk, 0.0) == 0.5  # flags 0.9 only


def test_alert_index_windows_are_inclusive() -> None:
    index = AlertIndex(make_history())
    at = (FIRST_DAY + 120) * DAY_SECONDS
    assert index.any_in(0, at, at) and not index.any_in(0, at + 1, at + 10)
    assert index.first_in(0, at - 100, at + 1) == at


def test_a_score_that_falls_before_churn_separates_churners_perfectly() -> None:
    result = evaluate(make_history(), warm_up=60, threshold=70.0)
    h30 = result["horizons"]["30"]
    assert h30["auc"]["score"] == pytest.approx(1.0)
    assert h30["alerts"]["recall"] == 1.0  # alerted on day 120 = T-30
    assert 0 < h30["alerts"]["false_alarm_rate"] < 0.05
    assert result["alerts"]["median_lead_days"] == 30.0
    assert result["at_risk_list"]["precision"] == 1.0


def test_weighted_scores_skip_missing_dimensions_like_the_engine() -> None:
    dims = np.asarray([[100.0, 0.0], [100.0, np.nan], [np.nan, np.nan]])
    scores = weighted_scores(dims, np.asarray([3.0, 1.0]))
    assert scores.tolist() == [75.0, 100.0, 50.0]


def test_a_fitted_model_document_is_a_valid_model_with_one_threshold() -> None:
    from pathlib import Path

    import yaml

    from services.backtest.fit import FitResult, fitted_model_doc
    from streams.domain.scoring.model import parse_model

    base = yaml.safe_load(Path("streams/domain/default_model.yaml").read_text())
    weights = {name: 10.0 for name in base["weights"]["default"]}
    fit = FitResult(weights=weights, threshold=90.0, training_auc=0.8, training_samples=(5, 50))
    model = parse_model(fitted_model_doc(base, fit, "fitted-1"))
    assert model.alerts.thresholds("free") == model.alerts.thresholds("smb") == (90.0, 95.0)
    assert model.alerts.sudden_drop_rearm == 100.0
    assert model.weights_for("free")["payment_status"] == 0
    assert model.version == "fitted-1"


def test_the_fitted_threshold_flags_at_most_one_retained_sample_in_twenty() -> None:
    retained = np.arange(100, dtype=np.float64)  # scores 0..99
    labels = np.zeros(100, dtype=np.int64)
    assert _threshold(retained, labels) == 5.0
