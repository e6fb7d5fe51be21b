"""``usage_decline``: a team thinning out is paged once, while the score still
reads healthy; a steady team, a silent one and a young one are not. Driven
through the partition engine with the live tick's clock (``drive``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from schemas import topics
from streams.domain.events import DomainEvent
from tests.unit.domain.factories import T0, at_day, make_feature, make_login, make_profile
from tests.unit.streams.drive_support import RULES, alerts, drive
from tests.unit.streams.engines import encoding_engine

#: The account signed up long before the history starts: no onboarding rules.
OLD = at_day(-400)


def team(d: int, people: int) -> list[DomainEvent]:
    """A working day of ``people`` users, each logging in and using two features;
    weekends are quiet (a B2B rhythm, so the pace is not trivially flat)."""
    if d % 7 in (5, 6):
        return []
    events: list[DomainEvent] = []
    for n in range(people):
        user = f"u{n}"
        events.append(make_login(at=at_day(d, 9), user=user))
        events += [make_feature(at=at_day(d, 10), feature=f"f{k}", user=user) for k in range(2)]
    return events


def run(people: Callable[[int], int], days: int) -> list[dict[str, Any]]:
    def plan(d: int) -> list[DomainEvent]:
        profile = [make_profile(at=T0, created_at=OLD)] if d == 0 else []
        return profile + team(d, people(d))

    return drive(plan, days)


def decline_alerts(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        o["data"] for o in outputs
        if o["topic"] == topics.ALERTS and o["data"]["alert"] == "usage_decline"
    ]  # fmt: skip


def test_a_team_thinning_out_is_paged_once_while_its_score_is_still_fine() -> None:
    # Ten people a day for 120 days, then three, still every working day.
    outputs = run(lambda d: 10 if d < 120 else 3, 200)
    [alert] = decline_alerts(outputs)
    caused = datetime.fromisoformat(alert["caused_at"])
    assert (caused.hour, caused.minute, caused.second) == (0, 0, 0)  # the day's check
    assert alert["score"] >= 60  # the average alone would not page anyone
    assert "health_below_threshold" not in alerts(outputs)
    assert any("active users per day" in r for r in alert["reasons"])


def test_the_alert_comes_within_weeks_of_the_fall_not_at_the_end() -> None:
    outputs = run(lambda d: 10 if d < 120 else 3, 200)
    [alert] = decline_alerts(outputs)
    days_after = (datetime.fromisoformat(alert["caused_at"]) - at_day(120)).days
    assert 0 < days_after < 40, alert["caused_at"]


def test_a_steady_team_with_weekends_and_a_short_holiday_is_not_paged() -> None:
    # A week off at day 100 (everybody away) and back: no decline episode.
    outputs = run(lambda d: 0 if 100 <= d < 107 else 8 + d % 3, 220)
    assert decline_alerts(outputs) == []


def test_one_page_per_episode_and_a_new_one_after_a_recovery() -> None:
    def people(d: int) -> int:
        if d < 120:
            return 10
        if d < 180:
            return 3  # the first decline, held for two months
        if d < 300:
            return 10  # back at its usual pace: the episode ends
        return 2  # a second decline

    outputs = run(people, 380)
    assert len(decline_alerts(outputs)) == 2


def test_a_team_that_stops_altogether_gets_inactivity_not_a_decline() -> None:
    outputs = run(lambda d: 10 if d < 120 else 0, 200)
    kinds = alerts(outputs)
    assert "inactivity" in kinds
    assert "usage_decline" not in kinds


def test_a_young_account_ramping_up_is_not_paged() -> None:
    def plan(d: int) -> list[DomainEvent]:
        profile = [make_profile(at=T0, created_at=T0)] if d == 0 else []
        return profile + team(d, min(10, 1 + d // 5))

    assert "usage_decline" not in alerts(drive(plan, 120))


def test_the_check_can_be_turned_off_in_the_model() -> None:
    model = RULES.model
    off = replace(model, alerts=replace(model.alerts, usage_decline_ratio=0.0))
    engine = encoding_engine(replace(RULES, model=off))

    def plan(d: int) -> list[DomainEvent]:
        profile = [make_profile(at=T0, created_at=OLD)] if d == 0 else []
        return profile + team(d, 10 if d < 120 else 3)

    assert decline_alerts(drive(plan, 200, engine)) == []
