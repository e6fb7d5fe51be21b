"""Races between billing events and dunning timers, and events out of order.

The rule under test (``dunning_engine`` docstring): events apply in event-time
order, and timers due at or before an event's time fire before that event.
"""

from __future__ import annotations

import pytest

from streams.domain.dunning.advance import advance_dunning, new_dunning_state, process_billing
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.dunning.state import open_cases
from tests.unit.domain.dunning_factories import (
    ACCOUNT,
    POLICY,
    billing,
    day,
    failed,
    run,
    step_names,
    succeeded,
    summarize,
)


def test_success_between_a_retry_and_its_timer_in_one_late_batch() -> None:
    """Batch [failure, success] processed long after: nothing after `recovered`."""
    _, decisions = run([failed(day(0)), succeeded(day(2))], now=day(30))
    assert summarize(decisions) == [
        ("payment_failed_notice", "in_1", 1, day(0)),
        ("retry_scheduled", "in_1", 2, day(0)),
        ("retry_scheduled", "in_1", 3, day(1)),
        ("recovered", "in_1", 1, day(2)),
    ]


def test_success_batch_after_several_due_timers_fires_only_those_before_it() -> None:
    state, _first = run([failed(day(0))], now=day(0))
    state, second = run([succeeded(day(4))], now=day(30), state=state)
    assert summarize(second) == [
        ("retry_scheduled", "in_1", 3, day(1)),
        ("retry_scheduled", "in_1", 4, day(3)),
        ("recovered", "in_1", 1, day(4)),
    ]
    assert advance_dunning(state, POLICY, day(60)).decisions == ()


def test_timer_due_exactly_at_the_event_time_fires_first() -> None:
    _, decisions = run([failed(day(0)), succeeded(day(1))], now=day(30))
    assert [(d.step, d.at) for d in decisions][-2:] == [
        ("retry_scheduled", day(1)),
        ("recovered", day(1)),
    ]


def test_same_event_delivered_twice_is_harmless() -> None:
    event = failed(day(0))
    state, decisions = run([event, event], now=day(0.5))
    state, again = run([event], now=day(0.5), state=state)
    assert step_names(decisions) == ["payment_failed_notice", "retry_scheduled"]
    assert again == ()
    assert open_cases(state)[0].attempts == 1


def test_two_distinct_failures_for_one_invoice_count_the_attempt_only() -> None:
    twin = billing("payment_failed", day(0), event_id="other-id", decline_code="card_declined")
    state, decisions = run([failed(day(0)), twin], now=day(0.5))
    assert step_names(decisions) == ["payment_failed_notice", "retry_scheduled"]
    (case,) = open_cases(state)
    assert (case.attempts, case.next_due_at) == (2, day(1))


def test_success_for_unknown_invoice_is_ignored_by_default() -> None:
    state, decisions = run([failed(day(0)), succeeded(day(2), invoice_id="in_9")], now=day(2))
    assert "recovered" not in step_names(decisions)
    assert len(open_cases(state)) == 1


def test_success_for_any_invoice_recovers_all_when_configured() -> None:
    policy = DunningPolicy(recover_on_any_success=True)
    events = [failed(day(0)), failed(day(1), invoice_id="in_2"), succeeded(day(2), "in_9")]
    state, decisions = run(events, now=day(30), policy=policy)
    recovered = [(d.invoice_id, d.at) for d in decisions if d.step == "recovered"]
    assert recovered == [("in_1", day(2)), ("in_2", day(2))]
    assert decisions[-1].step == "recovered"
    assert open_cases(state) == ()


def test_success_without_invoice_and_nothing_open_emits_nothing() -> None:
    _, decisions = run([succeeded(day(1), invoice_id=None)], now=day(3))
    assert decisions == ()


def test_recovering_one_invoice_leaves_the_other_running() -> None:
    events = [failed(day(0)), failed(day(0.5), invoice_id="in_2"), succeeded(day(2))]
    state, _ = run(events, now=day(2))
    assert [c.invoice_id for c in open_cases(state)] == ["in_2"]


def test_unsorted_batch_is_applied_in_event_time_order() -> None:
    ordered = [failed(day(0)), succeeded(day(2))]
    _, expected = run(ordered, now=day(10))
    _, actual = run(list(reversed(ordered)), now=day(10))
    assert actual == expected


def test_late_success_older_than_the_watermark_still_recovers_once() -> None:
    state, _ = run([failed(day(0))], now=day(10))
    state, decisions = run([succeeded(day(6))], now=day(10), state=state)
    assert summarize(decisions) == [("recovered", "in_1", 1, day(6))]
    assert advance_dunning(state, POLICY, day(40)).decisions == ()


def test_late_failure_older_than_the_watermark_fires_its_overdue_steps_in_order() -> None:
    state, _ = run([failed(day(0), invoice_id="in_0"), succeeded(day(0.1), "in_0")], now=day(10))
    state, decisions = run([failed(day(4))], now=day(10), state=state)
    assert summarize(decisions) == [
        ("payment_failed_notice", "in_1", 1, day(4)),
        ("retry_scheduled", "in_1", 2, day(4)),
        ("retry_scheduled", "in_1", 3, day(5)),
        ("retry_scheduled", "in_1", 4, day(7)),
        ("retry_scheduled", "in_1", 5, day(9)),
    ]
    assert open_cases(state)[0].next_due_at == day(11)


def test_reordered_failure_of_a_closed_case_does_not_reopen_it() -> None:
    state, _ = run([failed(day(0)), succeeded(day(2))], now=day(3))
    late = billing("payment_failed", day(1), event_id="late", decline_code="card_declined")
    state, decisions = run([late], now=day(3), state=state)
    assert decisions == ()
    assert open_cases(state) == ()


def test_failure_older_than_retention_is_ignored() -> None:
    state = advance_dunning(new_dunning_state(ACCOUNT), POLICY, day(100)).state
    state, decisions = run([failed(day(10))], now=day(100), state=state)
    assert (decisions, state.cases) == ((), ())


def test_success_older_than_the_case_does_not_close_it() -> None:
    state, _ = run([failed(day(5))], now=day(5))
    state, decisions = run([succeeded(day(4))], now=day(5), state=state)
    assert decisions == ()
    assert len(open_cases(state)) == 1


def test_event_for_another_account_is_refused() -> None:
    other = billing("payment_failed", day(0), account_id="globex")
    with pytest.raises(ValueError, match="globex"):
        process_billing(new_dunning_state(ACCOUNT), [other], POLICY, day(0))


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        advance_dunning(new_dunning_state(ACCOUNT), POLICY, day(0).replace(tzinfo=None))
