"""Lifecycle touchpoints end to end through the partition engine with the live
tick's clock: each fires once, at its moment, for the owner; never for a
churned account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas import topics
from schemas.touchpoints import TouchpointEvent
from streams.domain.events import DomainEvent, UsageEvent
from tests.unit.domain.factories import (
    T0,
    at_day,
    make_billing,
    make_login,
    make_nps,
    make_profile,
)
from tests.unit.streams.drive_support import daily_use, drive, envelope

MIDNIGHT0 = T0.replace(hour=0)


def touchpoints(outputs: list[dict[str, Any]]) -> list[TouchpointEvent]:
    return [
        TouchpointEvent.model_validate(envelope(o))
        for o in outputs
        if o["topic"] == topics.TOUCHPOINTS
    ]


def by_kind(outputs: list[dict[str, Any]]) -> dict[str, list[TouchpointEvent]]:
    out: dict[str, list[TouchpointEvent]] = {}
    for event in touchpoints(outputs):
        out.setdefault(event.data.kind, []).append(event)
    return out


def seats(count: int, day: int) -> UsageEvent:
    return UsageEvent(
        id=f"seats-{day}", account_id="acme", kind="seats_changed", at=at_day(day, 4),
        quantity=count,
    )  # fmt: skip


def test_the_check_in_and_milestones_fire_once_each_on_their_day() -> None:
    def plan(d: int) -> list[DomainEvent]:
        new = [make_profile(at=T0, created_at=T0)] if d == 0 else []
        return new + (daily_use(d) if d % 2 == 0 else [])

    found = by_kind(drive(plan, 400))
    expected = {"onboarding_checkin": 7, "milestone_30d": 30, "milestone_90d": 90,
                "milestone_1y": 365}  # fmt: skip
    for kind, days in expected.items():
        [event] = found[kind]
        assert event.time == MIDNIGHT0 + timedelta(days=days)
        assert event.data.owner == "csm@example.com" and event.data.summary


def test_an_old_customer_gets_no_belated_milestones() -> None:
    found = by_kind(drive(lambda d: [make_profile(at=T0)] if d == 0 else daily_use(d), 40))
    assert not {"onboarding_checkin", "milestone_30d"} & set(found)


def test_renewal_in_90_days_fires_once_a_quarter_ahead() -> None:
    renewal = T0 + timedelta(days=200)

    def plan(d: int) -> list[DomainEvent]:
        if d == 0:
            return [make_profile(at=T0, renewal_at=renewal), *daily_use(d)]
        if d == 60:  # the same renewal date again changes nothing
            return [make_billing("renewal_scheduled", at=at_day(d, 1), renewal_at=renewal)]
        return daily_use(d)

    [event] = by_kind(drive(plan, 150))["renewal_in_90d"]
    assert event.time == MIDNIGHT0 + timedelta(days=110)
    assert event.data.renewal_at == renewal


def test_an_expansion_signal_fires_once_when_seats_grow_past_the_threshold() -> None:
    def plan(d: int) -> list[DomainEvent]:
        first = [make_profile(at=T0), seats(8, 0)] if d == 0 else []
        grow = {10: [seats(9, 10)], 20: [seats(10, 20)], 30: [seats(14, 30)]}.get(d, [])
        return first + grow + daily_use(d)

    [event] = by_kind(drive(plan, 40))["expansion_signal"]
    assert event.time == MIDNIGHT0 + timedelta(days=21)  # the tick after the change
    assert "from 8 to 10" in event.data.summary


def test_a_promoter_on_a_healthy_account_gets_one_referral_ask() -> None:
    def plan(d: int) -> list[DomainEvent]:
        first = [make_profile(at=T0)] if d == 0 else []
        answers = [make_nps(at=at_day(d, 5), score=10)] if d in (35, 50) else []
        return first + daily_use(d) + answers

    [event] = by_kind(drive(plan, 60))["referral_ask"]
    assert event.time == at_day(35, 5)
    assert event.data.score is not None and event.data.score >= 75


def test_a_churned_account_gets_no_touchpoint() -> None:
    def plan(d: int) -> list[DomainEvent]:
        if d == 0:
            return [make_profile(at=T0, created_at=T0), make_login(at=at_day(0, 1))]
        if d == 20:
            return [make_billing("subscription_canceled", at=at_day(d, 1), reason="budget_cut")]
        if d == 25:
            return [make_nps(at=at_day(d, 1), score=10)]
        return daily_use(d) if d < 20 else []

    kinds = [t.data.kind for t in touchpoints(drive(plan, 120))]
    assert kinds == ["onboarding_checkin"]
