"""Inputs older than their account's retention, through the worker's engine:
refused before they change anything and dead-lettered as ``too_old`` with the
reason; a history of any length applied in time order (replay, or the live
worker, whose event-time alignment applies a backlog in time order) never
meets the rule, so live and replay decide the same."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson

from schemas.topics import DEADLETTER, TICKETS
from services.replay import replay_events
from streams.domain.account import RETENTION_S
from streams.domain.events import DomainEvent
from streams.processing.deadletter import engine_failures
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules
from tests.unit.domain.factories import at_day, make_login, make_payment_failed, make_ticket

RULES = load_rules(None)


def _engine() -> PartitionEngine:
    return PartitionEngine(0, RULES.model, RULES.policies)


def test_an_input_older_than_its_accounts_retention_is_dead_lettered_too_old() -> None:
    engine = _engine()
    engine.process([make_login(at=at_day(200))])
    stored = engine.record("acme")
    old = make_ticket(at=at_day(200) - timedelta(seconds=RETENTION_S + 1))
    assert engine.process([old]) == []
    assert engine.record("acme") == stored
    [(event, reason, kind)] = engine.take_failed()
    assert (event, kind) == (old, "too_old")

    [(topic, key, value)] = engine_failures([(0, event, reason, kind)])
    letter = orjson.loads(value)
    assert (topic, key) == (DEADLETTER, b"acme")
    assert letter["topic"] == TICKETS
    assert letter["reason"].startswith("event time 2026-")
    assert "more than 90 days before the newest event" in letter["reason"]
    assert orjson.loads(base64.b64decode(letter["value_b64"]))["id"] == old.id


def test_a_step_that_raises_is_still_an_engine_error() -> None:
    """Both kinds in one batch (the compiled engine types a handler's name
    by the first ``except`` that binds it)."""
    engine = _engine()
    engine.process([make_login(at=at_day(200))])
    old = make_ticket(at=at_day(50))
    poison = make_payment_failed(at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))  # overflows
    engine.process([old, poison])
    failed = engine.take_failed()
    assert [(event, kind) for event, _, kind in failed] == [
        (old, "too_old"),
        (poison, "engine_error"),
    ]
    [_, (_, _, value)] = engine_failures([(0, *failure) for failure in failed])
    assert orjson.loads(value)["reason"].startswith("processing raised OverflowError")


def _history() -> list[DomainEvent]:
    """A year of one account: logins every few days, tickets now and then."""
    events: list[DomainEvent] = []
    for day in range(0, 365, 3):
        events.append(make_login(at=at_day(day)))
        if day % 45 == 0:
            events.append(make_ticket(at=at_day(day, hour=2), ticket_id=f"T-{day}"))
    return events


def test_a_long_history_in_time_order_decides_the_same_live_and_in_replay() -> None:
    history = _history()
    replayed = replay_events(iter(history), {0: _engine()}, 1)
    live, decided = _engine(), []
    for day in range(0, 365, 7):  # the worker's batches, a week at a time
        week = [e for e in history if at_day(day) <= e.at < at_day(day + 7)]
        decided.extend(live.process(week))
    assert live.take_failed() == []
    assert decided == replayed
