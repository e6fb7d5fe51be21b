"""Renewal (7/3/2 days) and card-expiry (30/7 days) reminders.

Most tests replay with a daily tick (``replay_daily``), the way a live worker
runs; the clock-jump tests call ``advance_dunning`` directly to show the
"only the nearest due reminder is sent" rule.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from streams.domain.dunning.advance import advance_dunning
from streams.domain.dunning.decision import DunningDecision
from streams.domain.events import BillingEvent
from tests.unit.domain.dunning_factories import (
    ACCOUNT,
    POLICY,
    billing,
    canceled,
    card_expiring,
    day,
    renewal,
    replay_daily,
    run,
    succeeded,
)


def _reminders(
    decisions: list[DunningDecision],
) -> list[tuple[str, datetime | None, int | None, datetime]]:
    return [
        (d.step, d.target_at, d.days_before, d.at)
        for d in decisions
        if d.step in ("renewal_reminder", "card_expiry_reminder")
    ]


def test_renewal_reminders_at_7_3_and_2_days() -> None:
    _, decisions = replay_daily([renewal(day(0), day(20))], days=30)
    assert _reminders(decisions) == [
        ("renewal_reminder", day(20), 7, day(13)),
        ("renewal_reminder", day(20), 3, day(17)),
        ("renewal_reminder", day(20), 2, day(18)),
    ]
    assert [d.next_due_at for d in decisions] == [day(17), day(18), None]
    assert all(d.payment_link == f"https://billing.example.com/card/{ACCOUNT}" for d in decisions)
    assert all(d.attempt is None and d.invoice_id is None for d in decisions)


def test_same_renewal_announced_again_does_not_resend() -> None:
    again = billing(
        "renewal_scheduled", day(15), invoice_id=None, renewal_at=day(20), event_id="r2"
    )
    _, decisions = replay_daily([renewal(day(0), day(20)), again], days=30)
    assert [d.days_before for d in decisions] == [7, 3, 2]


def test_renewal_moved_resets_for_the_new_date_and_drops_the_old() -> None:
    events = [renewal(day(0), day(20)), renewal(day(14), day(30))]
    _, decisions = replay_daily(events, days=40)
    assert [(d.target_at, d.days_before, d.at) for d in decisions] == [
        (day(20), 7, day(13)),
        (day(30), 7, day(23)),
        (day(30), 3, day(27)),
        (day(30), 2, day(28)),
    ]


@pytest.mark.parametrize(
    ("learned_days", "expected"),
    [
        pytest.param(15, [(7, day(15)), (3, day(17)), (2, day(18))], id="7d-passed-next-not-due"),
        pytest.param(17.5, [(3, day(17.5)), (2, day(18))], id="7d-and-3d-passed-send-3d"),
        pytest.param(18.5, [(2, day(18.5))], id="all-passed-send-nearest"),
        pytest.param(20, [], id="renewal-already-happened"),
        pytest.param(25, [], id="renewal-in-the-past"),
    ],
)
def test_renewal_learned_late_sends_only_the_nearest_due_reminder(
    learned_days: float, expected: list[tuple[int, datetime]]
) -> None:
    event = renewal(day(learned_days), day(20))
    _, decisions = run([event], now=day(learned_days))
    _, daily = replay_daily([event], days=30)
    assert [(d.days_before, d.at) for d in daily] == expected
    assert [(d.days_before, d.at) for d in decisions] == expected[:1]


def test_clock_jump_sends_only_the_nearest_due_reminder() -> None:
    state, _ = run([renewal(day(0), day(20))], now=day(0))
    state, jumped = advance_dunning(state, POLICY, day(17.5))
    state, later = advance_dunning(state, POLICY, day(30))
    assert [(d.days_before, d.at) for d in jumped] == [(3, day(17))]
    assert [(d.days_before, d.at) for d in later] == []  # the clock also jumped past day 18


def test_nothing_is_sent_once_the_renewal_has_passed() -> None:
    state, _ = run([renewal(day(0), day(20))], now=day(0))
    assert advance_dunning(state, POLICY, day(21)).decisions == ()


def test_card_expiry_reminders_at_30_and_7_days() -> None:
    _, decisions = replay_daily([card_expiring(day(0), day(60))], days=70)
    assert _reminders(decisions) == [
        ("card_expiry_reminder", day(60), 30, day(30)),
        ("card_expiry_reminder", day(60), 7, day(53)),
    ]


CARD_UPDATES: list[tuple[str, BillingEvent, list[int]]] = [
    ("new-card-expiry", card_expiring(day(40), day(400)), [30]),
    ("success-after-sequence-started", succeeded(day(35)), [30]),
    ("success-before-sequence-started", succeeded(day(10)), [30, 7]),
    (
        "success-carrying-new-expiry",
        billing("payment_succeeded", day(40), card_expires_at=day(400)),
        [30],
    ),
]


@pytest.mark.parametrize(
    ("update", "expected_days"),
    [pytest.param(event, days, id=name) for name, event, days in CARD_UPDATES],
)
def test_card_update_stops_old_card_reminders(
    update: BillingEvent, expected_days: list[int]
) -> None:
    _, decisions = replay_daily([card_expiring(day(0), day(60)), update], days=70)
    old_card = [d.days_before for d in decisions if d.target_at == day(60)]
    assert old_card == expected_days


def test_stale_card_announcement_arriving_late_is_ignored() -> None:
    state, _ = run([card_expiring(day(5), day(60))], now=day(5))
    stale = billing("card_expiring", day(2), invoice_id=None, card_expires_at=day(45))
    state, now_decisions = run([stale], now=day(5), state=state)
    _, decisions = replay_daily([], days=70, state=state, first_day=6)
    assert now_decisions == ()
    assert [(d.target_at, d.days_before) for d in decisions] == [(day(60), 30), (day(60), 7)]


def test_subscription_canceled_stops_both_tracks() -> None:
    events = [renewal(day(0), day(20)), card_expiring(day(0), day(40)), canceled(day(12))]
    _, decisions = replay_daily(events, days=50)
    assert _reminders(decisions) == [("card_expiry_reminder", day(40), 30, day(10))]


def test_reminder_ids_are_keyed_by_target_date_and_days() -> None:
    first = replay_daily([renewal(day(0), day(20))], days=30)[1]
    other_event = billing("renewal_scheduled", day(1), invoice_id=None, renewal_at=day(20))
    second = replay_daily([other_event], days=30)[1]
    moved = replay_daily([renewal(day(0), day(21))], days=30)[1]
    assert [d.id for d in first] == [d.id for d in second]
    assert len({d.id for d in first}) == 3
    assert not {d.id for d in first} & {d.id for d in moved}


def test_renewal_amount_is_carried_when_announced() -> None:
    _, decisions = replay_daily([renewal(day(0), day(20))], days=30)
    assert {(d.amount_cents, d.currency) for d in decisions} == {(4900, "USD")}
