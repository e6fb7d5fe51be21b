"""Steps of one account: ordering, duplicates, when to emit, the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import (
    at_day,
    default_model,
    make_feature,
    make_login,
    make_records,
    make_ticket,
)
from tests.unit.domain.stepping import advance_time, process_batch


def test_first_event_creates_the_state_and_a_score() -> None:
    result = process_batch(None, [make_login(at=at_day(0))], default_model(), at_day(0))
    assert result.state is not None and result.state.account_id == "acme"
    assert result.health is not None and result.health.health.score == 100.0
    assert (result.applied, result.duplicates) == (1, 0)


def test_duplicate_ids_are_dropped_and_counted() -> None:
    records = make_records(at=at_day(0), quantity=100)
    first = process_batch(None, [records, records], default_model(), at_day(0))
    assert (first.applied, first.duplicates) == (1, 1)
    again = process_batch(first.state, [records], default_model(), at_day(0, 1))
    assert (again.applied, again.duplicates) == (0, 1)
    assert again.state is not None and again.state.usage.records == (
        (at_day(0).timestamp() // 86400, 100),
    )
    assert again.health is None


def test_events_are_applied_in_event_time_order() -> None:
    opened = make_ticket(at=at_day(0, 1), kind="ticket_opened", ticket_id="T-1")
    solved = make_ticket(at=at_day(0, 2), kind="ticket_solved", ticket_id="T-1")
    result = process_batch(
        None, [solved, opened, make_login(at=at_day(0))], default_model(), at_day(0, 3)
    )
    assert result.state is not None and result.state.tickets.open == ()


def test_nothing_is_emitted_when_nothing_scored_changed() -> None:
    state = process_batch(None, [make_login(at=at_day(0, 1))], default_model(), at_day(0, 1)).state
    again = process_batch(
        state, [make_login(at=at_day(0, 2), user="u2")], default_model(), at_day(0, 2)
    )
    assert again.health is None and again.alerts == ()
    assert again.state is not None and again.state.as_of_s == int(at_day(0, 2).timestamp())


def test_a_feature_seen_today_does_not_rescore() -> None:
    state = process_batch(
        None, [make_feature(at=at_day(0, 1))], default_model(), at_day(0, 1)
    ).state
    assert state is not None
    memo = state.last_score
    again = process_batch(state, [make_feature(at=at_day(0, 2))], default_model(), at_day(0, 2))
    assert again.state is not None and again.state.last_score is memo


def test_batch_for_another_account_is_refused() -> None:
    with pytest.raises(ValueError, match="in a batch for acme"):
        process_batch(None, [make_login(), make_login(account="other")], default_model(), at_day(0))


def test_advance_time_without_state_is_a_no_op() -> None:
    result = advance_time(None, default_model(), at_day(5))
    assert (result.state, result.health, result.alerts) == (None, None, ())


def test_the_clock_never_runs_backwards() -> None:
    state = process_batch(None, [make_login(at=at_day(3))], default_model(), at_day(3)).state
    earlier = advance_time(state, default_model(), at_day(1))
    assert earlier.state is not None and state is not None
    assert earlier.state.as_of_s == state.as_of_s
    assert earlier.health is None


def test_windows_slide_on_ticks_and_old_buckets_are_pruned() -> None:
    state = process_batch(None, [make_login(at=at_day(0))], default_model(), at_day(0)).state
    later = advance_time(state, default_model(), at_day(95))
    assert later.state is not None
    assert later.state.usage.active_users == ()
    # Every window is empty; only the days of silence still speak (recency).
    assert later.health is not None and 0.0 < later.health.health.score < 10.0
    assert later.health.time == at_day(95) - timedelta(hours=9)  # start of the day (T0 is 09:00)
    gone = advance_time(later.state, default_model(), at_day(400))
    assert gone.health is not None and gone.health.health.score == 0.0


def test_late_event_lands_in_its_own_day() -> None:
    state = process_batch(None, [make_login(at=at_day(5))], default_model(), at_day(5)).state
    late = process_batch(
        state, [make_records(at=at_day(2), quantity=7)], default_model(), at_day(5)
    )
    assert late.state is not None
    assert late.state.usage.records == ((int(at_day(2).timestamp()) // 86400, 7),)
    assert len(late.state.usage.active_users) == 2


def test_accounts_share_their_stored_days_buckets_and_feature_entries() -> None:
    """A worker keeps every owned account in memory: the day numbers, past
    days' small buckets and feature entries they hold are one object per
    value, not a copy per account (and per event), also after a restore."""
    model = default_model()
    states = []
    for account in ("acc-a", "acc-b"):
        feature = "".join(["rep", "orts"])  # a fresh string, as decoding gives
        events = [
            make_feature(account, at_day(1), feature),
            make_records(account, at_day(1), quantity=5),
            make_records(account, at_day(1), quantity=1000),
            make_login(account, at_day(2)),
            make_records(account, at_day(2), quantity=5),
        ]
        stored = process_batch(None, events, model, at_day(2)).state
        assert stored is not None
        states.append(stored)
    a, b = states[0].usage, states[1].usage
    restored = AccountState.from_dict(states[1].to_dict()).usage
    for other in (b, restored):
        assert a.features[0] is other.features[0]
        assert a.active_users[0] is other.active_users[0]  # day 1, over
        assert a.active_users[1][0] is other.active_users[1][0]  # today: the day only
    # A past day's bucket is shared only with a value CPython keeps one int for.
    assert a.records[0] == b.records[0] == (a.records[0][0], 1005)
    assert a.records[0] is not b.records[0]
    assert a.records[0][0] is b.records[0][0]
