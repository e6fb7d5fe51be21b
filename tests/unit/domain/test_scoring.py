"""Scoring: rescaled weights for missing data, exact contributions, changes, reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain.events import DomainEvent, Priority
from streams.domain.scoring.apply import apply_event
from streams.domain.scoring.model import BandThresholds
from streams.domain.scoring.reasons import explain
from streams.domain.scoring.score import apportion, band_of, score_account
from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import (
    ACCOUNT,
    at_day,
    default_model,
    make_feature,
    make_login,
    make_model,
    make_nps,
    make_payment_failed,
    make_payment_succeeded,
    make_profile,
    make_records,
    make_ticket,
)
from tests.unit.domain.stepping import process_batch


def state_of(events: list[DomainEvent]) -> AccountState:
    state = AccountState(ACCOUNT)
    for event in sorted(events, key=lambda e: e.at):
        state = apply_event(state, event)
    return state


def daily_logins(days: int, start: int = 0) -> list[DomainEvent]:
    return [make_login(at=at_day(start + d, 9)) for d in range(days)]


def test_missing_dimension_is_excluded_and_weights_rescale() -> None:
    model = make_model()  # usage_frequency 60 + nps 40
    state = state_of(daily_logins(40))  # 30 of 30 days active, no NPS answer
    score = score_account(state, model, at_day(39, 12))
    assert score is not None
    assert score.excluded == ("nps",)
    assert [(d.name, d.weight, d.score) for d in score.dimensions] == [
        ("usage_frequency", 100.0, 100.0)
    ]
    assert score.score == 100.0  # missing is not zero: no NPS does not cost 40 points


def test_both_dimensions_weigh_as_configured_when_present() -> None:
    state = state_of([*daily_logins(40), make_nps(at=at_day(39), score=5)])
    score = score_account(state, make_model(), at_day(39, 12))
    assert score is not None
    assert [(d.name, d.weight, d.contribution) for d in score.dimensions] == [
        ("usage_frequency", 60.0, 60.0),
        ("nps", 40.0, 20.0),
    ]
    assert score.score == 80.0


def test_each_model_and_data_pattern_weighs_its_own_way() -> None:
    """``assemble`` remembers weight layouts per model, weights and data
    pattern: alternating models and patterns must never borrow another's."""
    even = make_model(weights={"default": {"usage_frequency": 50, "nps": 50}})
    skewed = make_model(weights={"default": {"usage_frequency": 90, "nps": 10}})
    with_nps = state_of([*daily_logins(40), make_nps(at=at_day(39), score=5)])
    logins_only = state_of(daily_logins(40))
    for _ in range(2):
        for model, state, expected in [
            (even, with_nps, [50.0, 50.0]),
            (skewed, with_nps, [90.0, 10.0]),
            (even, logins_only, [100.0]),
            (skewed, logins_only, [100.0]),
        ]:
            score = score_account(state, model, at_day(39, 12))
            assert score is not None
            assert [d.weight for d in score.dimensions] == expected
            assert score.excluded == (() if len(expected) == 2 else ("nps",))


def test_old_nps_stops_counting() -> None:
    state = state_of([*daily_logins(40), make_nps(at=at_day(0), score=0)])
    assert score_account(state, make_model(), at_day(20)).excluded == ()  # type: ignore[union-attr]
    assert score_account(state, make_model(), at_day(95)).excluded == ("nps",)  # type: ignore[union-attr]


def test_profile_only_account_has_no_score() -> None:
    assert score_account(state_of([make_profile()]), default_model(), at_day(1)) is None


def test_segment_weights_apply() -> None:
    events = [*daily_logins(30), make_payment_failed(at=at_day(29))]
    smb = score_account(
        state_of([make_profile(segment="smb"), *events]), default_model(), at_day(30)
    )
    free = score_account(
        state_of([make_profile(segment="free"), *events]), default_model(), at_day(30)
    )
    assert smb is not None and free is not None
    assert "payment_status" in [d.name for d in smb.dimensions]
    assert "payment_status" not in [d.name for d in free.dimensions]  # weight 0 for free
    assert free.score > smb.score


@pytest.mark.parametrize(
    ("exact", "total", "parts"),
    [
        ([333.3, 333.3, 333.4], 1000, [333, 333, 334]),
        ([10.5, 10.5], 21, [11, 10]),  # ties go to the earlier part
        ([0.4, 0.4, 0.4], 1, [1, 0, 0]),
        ([250.0, 0.0], 250, [250, 0]),
    ],
)
def test_apportion_sums_exactly(exact: list[float], total: int, parts: list[int]) -> None:
    assert apportion(exact) == (total, parts)


@pytest.mark.parametrize(
    ("tenths", "band"),
    [(1000, "healthy"), (750, "healthy"), (749, "neutral"), (600, "neutral"), (599, "at_risk")],
)
def test_band_boundaries(tenths: int, band: str) -> None:
    assert band_of(tenths, BandThresholds(healthy=75, at_risk=60)) == band


EVENT_KINDS = (
    "login",
    "feature",
    "records",
    "ticket",
    "urgent",
    "solve",
    "fail",
    "pay",
    "nps",
    "profile",
)


@st.composite
def random_events(draw: st.DrawFn) -> list[DomainEvent]:
    events: list[DomainEvent] = []
    for _ in range(draw(st.integers(1, 60))):
        kind = draw(st.sampled_from(EVENT_KINDS))
        at = at_day(draw(st.integers(0, 120)), draw(st.integers(0, 23)))
        n = draw(st.integers(0, 9))
        if kind == "login":
            events.append(make_login(at=at, user=f"u{n}"))
        elif kind == "feature":
            events.append(make_feature(at=at, feature=f"f{n}"))
        elif kind == "records":
            events.append(make_records(at=at, quantity=draw(st.integers(-500, 5000))))
        elif kind in ("ticket", "urgent"):
            priority: Priority = "urgent" if kind == "urgent" else "normal"
            events.append(make_ticket(at=at, ticket_id=f"T{n}", priority=priority))
        elif kind == "solve":
            events.append(
                make_ticket(at=at, kind="ticket_solved", ticket_id=f"T{n}", csat=n % 5 + 1)
            )
        elif kind == "fail":
            events.append(make_payment_failed(at=at, invoice=f"in{n % 3}"))
        elif kind == "pay":
            events.append(make_payment_succeeded(at=at, invoice=f"in{n % 3}"))
        elif kind == "nps":
            events.append(make_nps(at=at, score=n + 1 if n < 9 else 10))
        else:
            events.append(make_profile(at=at, segment=("free", "smb", "enterprise")[n % 3]))
    return events


@settings(max_examples=150, deadline=None)
@given(events=random_events(), later=st.integers(0, 100))
def test_contributions_sum_to_the_score_exactly(events: list[DomainEvent], later: int) -> None:
    state = state_of(events)
    now = max(e.at for e in events) + timedelta(days=later)
    score = score_account(state, default_model(), now)
    if score is None:
        return
    assert sum(d.contribution_tenths for d in score.dimensions) == score.score_tenths
    assert round(sum(d.contribution for d in score.dimensions), 1) == score.score
    assert 0 <= score.score <= 100
    assert sum(d.weight for d in score.dimensions) == pytest.approx(100, abs=0.05)
    mean = sum(d.weight * d.score / 100 for d in score.dimensions)
    # A binding cap scales every contribution by cap / mean (see ``score``).
    scale = score.score / mean if score.capped_by else 1.0
    for dim in score.dimensions:
        assert abs(dim.contribution - dim.weight * dim.score / 100 * scale) <= 0.1 + 1e-9


def test_changes_name_the_dimensions_that_moved() -> None:
    model = make_model()
    first = process_batch(
        None, [*daily_logins(30), make_nps(at=at_day(29), score=9)], model, at_day(29, 12)
    )
    second = process_batch(
        first.state, [make_nps(at=at_day(29, 13), score=5)], model, at_day(29, 13)
    )
    assert second.health is not None
    changes = second.health.health.changes
    assert [(c.name, c.previous_score, c.score, c.delta) for c in changes] == [
        ("nps", 100.0, 50.0, -20.0)
    ]
    assert second.health.health.previous_score == 100.0


@pytest.mark.parametrize(
    ("events", "now_day", "reason"),
    [
        (
            [
                *daily_logins(23, start=0),
                make_login(at=at_day(31)),
                make_login(at=at_day(33)),
                make_login(at=at_day(40)),
            ],
            60,
            "logins fell from 22 to 3 active days in 30 days",
        ),
        (
            [
                *daily_logins(30),
                *(
                    make_ticket(at=at_day(29), ticket_id=f"U{n}", priority="urgent")
                    for n in range(2)
                ),
            ],
            30,
            "2 urgent tickets open",
        ),
        (
            [*daily_logins(30), make_payment_failed(at=at_day(22))],
            30,
            "1 failed payment open for 9 days (caps the score at 55)",
        ),
        (daily_logins(20), 36, "no activity for 16 days"),
        (
            [*daily_logins(30), make_nps(at=at_day(29), score=2)],
            30,
            "latest NPS is 2 (detractor) (caps the score at 70)",
        ),
    ],
)
def test_explain_says_it_in_plain_words(
    events: list[DomainEvent], now_day: int, reason: str
) -> None:
    state = state_of(events)
    now = at_day(now_day, 1)
    score = score_account(state, default_model(), now)
    assert score is not None
    assert reason in explain(state, score, default_model(), now)


def test_explain_is_silent_for_a_healthy_account() -> None:
    state = state_of(daily_logins(30))
    score = score_account(state, default_model(), at_day(29, 12))
    assert score is not None and score.band == "healthy"
    assert explain(state, score, default_model(), at_day(29, 12)) == ()
