"""Red-flag caps (``caps:`` in the model): one dimension that alone means churn
in progress holds the score down, whatever the weighted mean of the others;
the cap lifts when its cause clears, and the explanation says so."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from streams.domain.events import DomainEvent
from streams.domain.scoring.apply import apply_event
from streams.domain.scoring.health import HealthScore
from streams.domain.scoring.model import ModelError, ScoringModel, parse_model
from streams.domain.scoring.reasons import details_of, explain
from streams.domain.scoring.score import score_account
from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import (
    ACCOUNT,
    at_day,
    default_model,
    make_login,
    make_nps,
    make_payment_failed,
    make_payment_succeeded,
    make_ticket,
    model_doc,
)


def daily_use(days: int) -> list[DomainEvent]:
    return [make_login(at=at_day(d, 9)) for d in range(days)]


def scored(events: list[DomainEvent], now: datetime, model: ScoringModel) -> HealthScore:
    state = AccountState(ACCOUNT)
    for event in sorted(events, key=lambda e: e.at):
        state = apply_event(state, event)
    score = score_account(state, model, now)
    assert score is not None
    return score


def both(events: list[DomainEvent], now: datetime) -> tuple[HealthScore, HealthScore]:
    """The default model's score, and the same model's without caps."""
    model = default_model()
    return scored(events, now, model), scored(events, now, dataclasses.replace(model, caps=()))


URGENT = [make_ticket(at=at_day(29, 3), ticket_id=f"U{n}", priority="urgent") for n in range(3)]


@pytest.mark.parametrize(
    ("cause", "clears", "dimension", "cap"),
    [
        # Open 8 days at day 29 (failure day = day 1); paid on day 30.
        ([make_payment_failed(at=at_day(22))], make_payment_succeeded(at=at_day(30, 1)),
         "payment_status", 55.0),
        # A detractor answer; a promoter answer replaces it.
        ([make_nps(at=at_day(28), score=4)], make_nps(at=at_day(30, 1), score=9), "nps", 70.0),
        # Three urgent tickets (load 12, the floor); one is solved.
        (URGENT, make_ticket(at=at_day(30, 1), ticket_id="U0", kind="ticket_solved"),
         "support_load", 70.0),
    ],
)  # fmt: skip
def test_each_cap_holds_the_score_down_and_lifts_when_its_cause_clears(
    cause: list[DomainEvent], clears: DomainEvent, dimension: str, cap: float
) -> None:
    history = daily_use(31) + cause
    capped, uncapped = both(history, at_day(29, 12))
    assert uncapped.score > cap and uncapped.capped_by == ""  # the mean alone says fine
    assert (capped.score, capped.capped_by) == (cap, dimension)
    assert capped.band != "healthy"
    lifted, _ = both([*history, clears], at_day(30, 12))
    assert lifted.capped_by == "" and lifted.score > cap


def test_an_invoice_open_a_week_is_not_capped_yet() -> None:
    """Day 7 is the last retry; the flag is raised from day 8."""
    week, _ = both([*daily_use(31), make_payment_failed(at=at_day(23))], at_day(29, 12))
    assert week.capped_by == "" and week.score > 55


def test_a_detractor_answer_stops_capping_once_it_is_too_old() -> None:
    history = [*daily_use(130), make_nps(at=at_day(20), score=3)]
    assert both(history, at_day(100, 12))[0].capped_by == "nps"
    assert both(history, at_day(112, 12))[0].capped_by == ""  # older than max_age_days


def test_a_cap_that_the_mean_is_already_under_does_not_bind() -> None:
    """Silent for 40 days with a detractor answer: the mean is under 70 by itself,
    so the score is the mean and no cap is claimed."""
    events = [*daily_use(20), make_nps(at=at_day(55), score=2)]
    capped, uncapped = both(events, at_day(60, 12))
    assert uncapped.score < 70
    assert (capped.score, capped.capped_by) == (uncapped.score, "")


def test_the_lowest_binding_cap_wins() -> None:
    events = [*daily_use(31), make_payment_failed(at=at_day(15)), make_nps(at=at_day(28), score=0)]
    capped, _ = both(events, at_day(29, 12))
    assert (capped.score, capped.capped_by) == (55.0, "payment_status")


def test_a_capped_score_still_adds_up_and_says_why() -> None:
    events = [*daily_use(31), make_payment_failed(at=at_day(15))]
    now = at_day(29, 12)
    state = AccountState(ACCOUNT)
    for event in sorted(events, key=lambda e: e.at):
        state = apply_event(state, event)
    model = default_model()
    score = score_account(state, model, now)
    assert score is not None and score.capped_by == "payment_status"
    assert sum(d.contribution_tenths for d in score.dimensions) == score.score_tenths == 550
    reasons = explain(state, score, model, now)
    assert reasons[0] == "1 failed payment open for 15 days (caps the score at 55)"
    names = [d.name for d in score.dimensions]
    details = dict(zip(names, details_of(state, score, model), strict=True))
    assert details["payment_status"] == "1 failed payment open for 15 days (caps the score at 55)"
    assert details["recency"] == "active today or yesterday"  # the others say what they are


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ({"feature_depth": {"at_most": 10, "cap": 50}}, "caps.feature_depth: not a dimension"),
        ({"nps": {"at_most": 35}}, "caps.nps.cap: must be a number"),
        ({"nps": {"at_most": 35, "cap": 170}}, "caps.nps.cap: 170 is outside"),
        ({"nps": {"below": 35, "cap": 70}}, "caps.nps.below: unknown key"),
        ({"nps": 35}, "caps.nps: must be a mapping"),
    ],
)
def test_a_bad_cap_is_refused_naming_the_key(caps: object, message: str) -> None:
    with pytest.raises(ModelError, match=message.replace(".", r"\.")):
        parse_model(model_doc(caps=caps))


def test_caps_are_read_from_the_model_file() -> None:
    model = parse_model(model_doc(caps={"nps": {"at_most": 50, "cap": 40}}))
    assert [(c.dimension, c.at_most, c.cap) for c in model.caps] == [("nps", 50.0, 40.0)]
    assert {c.dimension for c in default_model().caps} == {"payment_status", "nps", "support_load"}
    assert parse_model(model_doc(caps=None)).caps == ()  # a section of comments only
