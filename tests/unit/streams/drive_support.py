"""Driving one partition engine day by day with the live tick's clock (an
advance to every midnight), for the tests of what a CSM would receive."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from schemas import topics
from streams.domain.events import DomainEvent
from streams.processing.encode import Emit
from streams.processing.rules import load_rules
from tests.unit.domain.factories import T0, at_day, make_feature, make_login
from tests.unit.streams.engines import Encoding, encoding_engine

RULES = load_rules()
DAY = 86_400
Plan = Callable[[int], Iterable[DomainEvent]]


def drive(plan: Plan, days: int, engine: Encoding | None = None) -> list[dict[str, Any]]:
    """Day ``d``'s events from ``plan(d)``, then the clock to the next midnight."""
    engine = engine or encoding_engine(RULES)
    out: list[Emit] = []
    midnight0 = int(T0.timestamp()) // DAY * DAY
    for d in range(days):
        out += engine.process(list(plan(d)))
        out += engine.advance(float(midnight0 + (d + 1) * DAY))
    return [orjson.loads(e.value) | {"topic": e.topic} for e in out]


def envelope(output: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent as published (``drive`` adds the topic for the tests)."""
    return {k: v for k, v in output.items() if k != "topic"}


def alerts(outputs: list[dict[str, Any]]) -> list[str]:
    return [o["data"]["alert"] for o in outputs if o["topic"] == topics.ALERTS]


def daily_use(d: int, features: int = 4) -> list[DomainEvent]:
    return [make_login(at=at_day(d, 1))] + [
        make_feature(at=at_day(d, 2), feature=f"f{n}") for n in range(features)
    ]
