"""DunningState serialization, pruning and the views the shell and the score read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.domain.dunning.advance import advance_dunning, new_dunning_state
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.dunning.state import (
    SEEN_IDS_KEPT,
    DunningState,
    OpenFailures,
    next_due_at,
    open_failures,
)
from tests.unit.domain.dunning_factories import (
    ACCOUNT,
    POLICY,
    billing,
    card_expiring,
    day,
    failed,
    renewal,
    run,
    succeeded,
)


def _busy_state() -> DunningState:
    events = [
        failed(day(0)),
        failed(day(0.5), "in_2", code="lost_card"),
        failed(day(1), "in_3"),
        succeeded(day(2), "in_3"),
        renewal(day(0), day(30)),
        card_expiring(day(0), day(90)),
    ]
    return run(events, now=day(8.25))[0]


def test_state_round_trips_through_json() -> None:
    state = _busy_state()
    text = json.dumps(state.to_dict())
    assert DunningState.from_dict(json.loads(text)) == state


def test_empty_state_round_trips() -> None:
    state = new_dunning_state(ACCOUNT)
    assert DunningState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(v=2), "version"),
        (lambda d: d.update(account=None), "'account'"),
        (lambda d: d.update(cases={}), "'cases'"),
        (lambda d: d["cases"][0].update(status="lost"), "status"),
        (lambda d: d["cases"][0].update(attempts="1"), "'attempts'"),
        (lambda d: d["cases"][0].update(opened="2026-11-03T10:00:00"), "timezone-aware"),
        (lambda d: d.update(seen=[1]), "'seen'"),
        (lambda d: d["reminders"]["renewal"].update(pending=["7"]), "'pending'"),
    ],
)
def test_corrupt_state_is_reported(mutate: Any, message: str) -> None:
    raw = json.loads(json.dumps(_busy_state().to_dict()))
    mutate(raw)
    with pytest.raises(ValueError, match=message):
        DunningState.from_dict(raw)


def test_closed_cases_are_pruned_after_retention() -> None:
    policy = DunningPolicy(retention_days=10)
    state, _ = run([failed(day(0)), succeeded(day(2))], now=day(12), policy=policy)
    assert [c.status for c in state.cases] == ["recovered"]
    assert advance_dunning(state, policy, day(12.01)).state.cases == ()


def test_seen_ids_are_bounded() -> None:
    events = [
        billing("payment_succeeded", day(i / 100), invoice_id=None, event_id=f"e{i}")
        for i in range(SEEN_IDS_KEPT + 10)
    ]
    state, _ = run(events, now=day(1))
    assert len(state.seen_ids) == SEEN_IDS_KEPT
    assert state.seen_ids[-1] == f"e{SEEN_IDS_KEPT + 9}"


@pytest.mark.parametrize(
    ("now_days", "expected"),
    [(0, OpenFailures(0, 0)), (0.15, OpenFailures(1, 0)), (3.5, OpenFailures(2, 3))],
)
def test_open_failures_counts_open_cases_and_oldest_days_past_due(
    now_days: float, expected: OpenFailures
) -> None:
    events = [e for e in (failed(day(0.1)), failed(day(0.2), "in_2")) if e.at <= day(now_days)]
    state, _ = run(events, now=day(now_days))
    assert open_failures(state, day(now_days)) == expected


def test_open_failures_ignores_recovered_cases() -> None:
    state, _ = run([failed(day(0)), succeeded(day(2))], now=day(3))
    assert open_failures(state, day(3)) == OpenFailures(0, 0)


@pytest.mark.parametrize(
    ("events", "now_days", "expected_days"),
    [
        ([], 0, None),
        ([failed(day(0))], 0, 1),
        ([failed(day(0))], 5, 7),
        ([failed(day(0), code="lost_card")], 0, 7),
        ([failed(day(0)), succeeded(day(2))], 2, None),
        ([renewal(day(0), day(20))], 0, 13),
        ([renewal(day(0), day(20)), failed(day(0))], 0, 1),
        ([card_expiring(day(0), day(40))], 0, 10),
    ],
)
def test_next_due_at_is_the_earliest_pending_timer(
    events: list[Any], now_days: float, expected_days: float | None
) -> None:
    state, _ = run(events, now=day(now_days))
    expected = None if expected_days is None else day(expected_days)
    assert next_due_at(state) == expected


def test_advancing_to_next_due_at_always_makes_progress() -> None:
    """The shell's timer index contract: waking at next_due_at emits or moves the timer."""
    state, _ = run([failed(day(0)), renewal(day(0), day(20))], now=day(0))
    wakeups = 0
    while (due := next_due_at(state)) is not None:
        step = advance_dunning(state, POLICY, due)
        assert step.decisions or next_due_at(step.state) != due
        state = step.state
        wakeups += 1
    assert wakeups < 20
