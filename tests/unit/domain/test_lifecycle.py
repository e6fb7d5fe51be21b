"""Lifecycle and the signals that rank: recency past 90 days, the churn mark,
per-segment thresholds, and states stored before these existed."""

from __future__ import annotations

import pytest

from streams.domain.scoring.lifecycle import churn_kind
from streams.domain.scoring.model import Curve, ModelError, normalise
from streams.domain.scoring.state import AccountState, Churn
from tests.unit.domain.factories import (
    T0,
    at_day,
    default_model,
    make_billing,
    make_login,
    make_model,
    make_nps,
    make_profile,
    run,
)
from tests.unit.domain.stepping import advance_time, process_batch


def score_after_silence(days: int) -> float:
    state = process_batch(None, [make_profile(at=T0), make_login(at=T0)], default_model(), T0).state
    later = advance_time(state, default_model(), at_day(days))
    assert later.state is not None and later.state.last_score is not None
    return later.state.last_score.score_t / 10


def test_silence_of_120_days_scores_lower_than_95_days() -> None:
    assert score_after_silence(120) < score_after_silence(95) < score_after_silence(60)
    assert score_after_silence(400) == 0.0


def test_a_curve_interpolates_between_its_points() -> None:
    curve = Curve(points=((0.0, 100.0), (10.0, 50.0), (30.0, 0.0)))
    assert [normalise(curve, x) for x in (-1, 0, 5, 10, 20, 30, 99)] == [
        100.0, 100.0, 75.0, 50.0, 25.0, 0.0, 0.0,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "open_failures", "kind"),
    [
        ("too_expensive", 0, "voluntary"),
        ("payment_failed", 0, "involuntary"),
        ("Unpaid", 0, "involuntary"),
        ("switched_competitor", 1, "involuntary"),
        (None, 0, "voluntary"),
    ],
)
def test_churn_kind(reason: str | None, open_failures: int, kind: str) -> None:
    assert churn_kind(reason, open_failures) == kind


def test_the_churn_mark_profile_and_onboarding_flag_survive_a_store_and_load() -> None:
    state, _ = run(
        [
            [make_profile(at=T0, plan="team"), make_login(at=T0)],
            [make_billing("subscription_canceled", at=at_day(3), reason="budget_cut")],
        ]
    )
    assert state is not None and state.churn is not None
    assert state.churn.reason == "budget_cut" and state.churn.kind == "voluntary"
    loaded = AccountState.from_dict(state.to_dict())
    assert loaded == state
    assert loaded.profile is not None and loaded.profile.plan == "team"
    assert loaded.profile.created_s is not None


def test_a_state_stored_before_the_lifecycle_and_new_dimensions_still_loads() -> None:
    old = {
        "v": 1, "a": "acme", "d": 20_000,
        "p": ["Acme", "smb", "csm@example.com", 100, 1_700_000_000],
        "u": {"k": 1, "f": 10, "a": [10, 1, 1, 1], "b": [0, 1]},
        "l": 1_727_000_000, "w": 1_727_000_000, "o": 1_727_000_000,
        "m": {"s": 800, "b": 0, "d": 0, "v": "default-2026.11.1",
              "x": [900, -1, -1, -1, -1, -1], "c": [800, -1, -1, -1, -1, -1]},
        "al": {"a": 1, "s": 1_726_000_000},
    }  # fmt: skip
    state = AccountState.from_dict(old)
    assert state.churn is None and state.profile is not None and state.profile.plan is None
    assert state.last_score is not None and len(state.last_score.dim_scores_t) == 8
    assert state.alerts.onboarding_checked is False
    result = advance_time(state, default_model(), at_day(0))
    assert result.state is not None and result.state.last_score is not None


def test_a_churned_account_keeps_its_last_score_in_the_mark() -> None:
    state, results = run(
        [
            [make_profile(at=T0), make_login(at=T0), make_nps(at=T0, score=9)],
            [make_billing("subscription_canceled", at=at_day(1), reason="no_longer_needed")],
        ]
    )
    assert state is not None and state.churn == Churn(
        int(at_day(1).timestamp()), "no_longer_needed", "voluntary", state.churn.score_t
    )
    assert state.churn.score_t > 0
    [change] = results[-1].lifecycle
    assert change.change == "churned" and change.last_score == state.churn.score_t / 10


def test_thresholds_per_segment() -> None:
    model = make_model(
        alerts={"threshold": 60, "rearm": 65, "segments": {"free": {"threshold": 40}}}
    )
    assert model.alerts.thresholds("free") == (40.0, 65.0)
    assert model.alerts.thresholds("smb") == (60.0, 65.0)
    with pytest.raises(ModelError, match=r"alerts\.segments\.free\.rearm"):
        make_model(alerts={"threshold": 60, "rearm": 65, "segments": {"free": {"threshold": 70}}})
    with pytest.raises(ModelError, match=r"alerts\.segments\.gold"):
        make_model(alerts={"segments": {"gold": {"threshold": 50}}})


def test_lifecycle_settings_are_validated() -> None:
    with pytest.raises(ModelError, match=r"lifecycle\.stalled_quiet_days"):
        make_model(lifecycle={"stalled_after_days": 7, "stalled_quiet_days": 10})
    with pytest.raises(ModelError, match=r"lifecycle\.onboarding"):
        make_model(lifecycle={"onboarding": 30})
