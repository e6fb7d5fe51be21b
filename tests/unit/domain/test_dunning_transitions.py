"""Every transition of the per-invoice dunning machine, as tables.

Pure and synchronous: each row feeds billing events through ``process_billing``
up to a ``now`` and compares the ordered (step, invoice, attempt, at) sequence.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from streams.domain.dunning.decision import DunningDecision
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.dunning.state import open_cases
from streams.domain.events import BillingEvent
from tests.unit.domain.dunning_factories import (
    ACCOUNT,
    billing,
    canceled,
    day,
    failed,
    run,
    succeeded,
    summarize,
)

SOFT_TIMELINE = [
    ("payment_failed_notice", "in_1", 1, day(0)),
    ("retry_scheduled", "in_1", 2, day(0)),
    ("retry_scheduled", "in_1", 3, day(1)),
    ("retry_scheduled", "in_1", 4, day(3)),
    ("retry_scheduled", "in_1", 5, day(5)),
    ("grace_started", "in_1", 1, day(7)),
    ("escalated", "in_1", 1, day(14)),
    ("canceled", "in_1", 1, day(21)),
]
HARD_TIMELINE = [
    ("update_card_requested", "in_1", 1, day(0)),
    ("grace_started", "in_1", 1, day(7)),
    ("escalated", "in_1", 1, day(14)),
    ("canceled", "in_1", 1, day(21)),
]


@pytest.mark.parametrize(
    ("now_days", "expected_count"),
    [(0, 2), (0.99, 2), (1, 3), (3, 4), (5, 5), (6.9, 5), (7, 6), (13.99, 6), (14, 7), (21, 8)],
)
def test_soft_decline_follows_the_default_schedule(now_days: float, expected_count: int) -> None:
    _, decisions = run([failed(day(0))], now=day(now_days))
    assert summarize(decisions) == SOFT_TIMELINE[:expected_count]


@pytest.mark.parametrize(
    "code",
    [
        "lost_card",
        "stolen_card",
        "fraudulent",
        "expired_card",
        "do_not_honor",
        "pickup_card",
        "restricted_card",
        "invalid_account",
        "DO_NOT_HONOR",
    ],
)
def test_hard_decline_skips_retries_and_asks_for_a_card(code: str) -> None:
    _, decisions = run([failed(day(0), code=code)], now=day(30))
    assert summarize(decisions) == HARD_TIMELINE
    assert decisions[0].reason == code


@pytest.mark.parametrize(
    ("now_days", "status", "next_due"),
    [
        (0, "retrying", day(1)),
        (1, "retrying", day(3)),
        (5, "retrying", day(7)),
        (7, "grace", day(14)),
        (14, "restricted", day(21)),
    ],
)
def test_case_status_and_next_due_after_each_rung(
    now_days: float, status: str, next_due: datetime
) -> None:
    state, _ = run([failed(day(0))], now=day(now_days))
    (case,) = open_cases(state)
    assert (case.status, case.next_due_at) == (status, next_due)


def test_canceled_case_is_closed_and_no_longer_open() -> None:
    state, decisions = run([failed(day(0))], now=day(21))
    assert open_cases(state) == ()
    assert decisions[-1].status == "canceled"
    assert decisions[-1].reason == "schedule"
    assert decisions[-1].next_due_at is None


# Closing events at each rung: (name, when the event arrives, expected last decision)
CLOSE_ROWS = [
    ("retrying", 2, "recovered"),
    ("grace", 8, "recovered"),
    ("restricted", 15, "recovered"),
]


@pytest.mark.parametrize(("rung", "at_days", "step"), CLOSE_ROWS)
@pytest.mark.parametrize("hard", [False, True])
def test_success_closes_the_case_at_any_rung(
    rung: str, at_days: float, step: str, hard: bool
) -> None:
    code = "stolen_card" if hard else "insufficient_funds"
    state, decisions = run([failed(day(0), code=code), succeeded(day(at_days))], now=day(60))
    assert decisions[-1].step == step
    assert decisions[-1].at == day(at_days)
    assert [d.step for d in decisions].count("recovered") == 1
    assert open_cases(state) == ()


@pytest.mark.parametrize("at_days", [0.5, 6, 10, 20])
def test_subscription_canceled_stops_everything_with_one_canceled(at_days: float) -> None:
    events = [failed(day(0)), canceled(day(at_days), reason="switched_vendor")]
    state, decisions = run(events, now=day(60))
    closing = [d for d in decisions if d.step == "canceled"]
    assert len(closing) == 1
    assert (closing[0].at, closing[0].reason) == (day(at_days), "switched_vendor")
    assert decisions[-1] is closing[0]
    assert open_cases(state) == ()


def test_subscription_canceled_without_open_cases_emits_nothing() -> None:
    _, decisions = run([canceled(day(1))], now=day(30))
    assert decisions == ()


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [failed(day(0)), failed(day(1.5))],
            [("payment_failed_notice", 1), ("retry_scheduled", 2), ("retry_scheduled", 3)],
            id="soft-after-soft-counts-attempt-only",
        ),
        pytest.param(
            [failed(day(0)), failed(day(1.5), code="lost_card")],
            [
                ("payment_failed_notice", 1),
                ("retry_scheduled", 2),
                ("retry_scheduled", 3),
                ("update_card_requested", 2),
            ],
            id="hard-after-soft-switches-to-update-card",
        ),
        pytest.param(
            [failed(day(0), code="lost_card"), failed(day(2), code="stolen_card")],
            [("update_card_requested", 1)],
            id="hard-after-hard-asks-once",
        ),
        pytest.param(
            [failed(day(0)), failed(day(8), code="expired_card")],
            [
                ("payment_failed_notice", 1),
                ("retry_scheduled", 2),
                ("retry_scheduled", 3),
                ("retry_scheduled", 4),
                ("retry_scheduled", 5),
                ("grace_started", 1),
                ("update_card_requested", 2),
            ],
            id="hard-in-grace-asks-for-card-keeps-ladder",
        ),
    ],
)
def test_further_failures_of_an_open_case(
    events: list[BillingEvent], expected: list[tuple[str, int]]
) -> None:
    _, decisions = run(events, now=events[-1].at)
    assert [(d.step, d.attempt) for d in decisions] == expected


def test_hard_decline_after_soft_drops_remaining_retries_but_keeps_the_ladder() -> None:
    _state, decisions = run([failed(day(0)), failed(day(1.5), code="lost_card")], now=day(30))
    steps = [(d.step, d.at) for d in decisions]
    assert ("retry_scheduled", day(3)) not in steps
    assert steps[-3:] == [("grace_started", day(7)), ("escalated", day(14)), ("canceled", day(21))]
    assert decisions[-1].attempt == 2


def test_soft_exhaustion_before_grace_waits_in_open() -> None:
    policy = DunningPolicy(retry_days=(1, 2), grace_start_day=5, restrict_day=10, cancel_day=15)
    state, decisions = run([failed(day(0))], now=day(3), policy=policy)
    (case,) = open_cases(state)
    assert (case.status, case.next_due_at) == ("open", day(5))
    assert [d.step for d in decisions][-1] == "retry_scheduled"


def test_policy_without_retries_sends_a_notice_and_waits_for_grace() -> None:
    policy = DunningPolicy(retry_days=())
    _, decisions = run([failed(day(0))], now=day(7), policy=policy)
    assert summarize(decisions) == [
        ("payment_failed_notice", "in_1", 1, day(0)),
        ("grace_started", "in_1", 1, day(7)),
    ]


def _case_decisions(decisions: tuple[DunningDecision, ...]) -> list[DunningDecision]:
    return [d for d in decisions if d.invoice_id == "in_1"]


def test_every_case_decision_carries_link_amount_and_next_due() -> None:
    _, decisions = run([failed(day(0))], now=day(21))
    for decision in _case_decisions(decisions)[:-1]:
        assert decision.payment_link == f"https://billing.example.com/pay/{ACCOUNT}/in_1"
        assert (decision.amount_cents, decision.currency) == (4900, "USD")
        assert decision.next_due_at is not None and decision.next_due_at >= decision.at
    assert decisions[-1].payment_link is None


def test_decision_ids_are_unique_and_derived_from_the_cause() -> None:
    _, first = run([failed(day(0))], now=day(21))
    _, second = run([failed(day(0))], now=day(21))
    assert len({d.id for d in first}) == len(first)
    assert [d.id for d in first] == [d.id for d in second]
    _, other_invoice = run([failed(day(0), invoice_id="in_2")], now=day(21))
    assert not {d.id for d in first} & {d.id for d in other_invoice}


def test_failure_after_recovery_opens_a_new_case_with_new_ids() -> None:
    events = [failed(day(0)), succeeded(day(2)), failed(day(40))]
    _, decisions = run(events, now=day(40))
    notices = [d for d in decisions if d.step == "payment_failed_notice"]
    assert [n.at for n in notices] == [day(0), day(40)]
    assert notices[0].id != notices[1].id


def test_amount_follows_the_latest_failure() -> None:
    second = billing("payment_failed", day(1.5), amount_cents=5900, decline_code="card_declined")
    _, decisions = run([failed(day(0)), second], now=day(3))
    assert decisions[-1].amount_cents == 5900
