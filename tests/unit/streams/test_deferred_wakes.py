"""Deferred wakes (``PartitionEngine.process(defer_wakes=True)`` and
``fire_overdue``): a batch past midnight fires only its own accounts' timers,
the rest are fired later at their own due times - and every account's
outputs and stored state are exactly those of firing everything on time.
Pure: no broker."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.config import load_rules
from streams.convert import to_domain
from streams.domain.events import DomainEvent, UsageEvent
from streams.engine import PartitionEngine
from streams.outputs import Emit

RULES = load_rules()
END = datetime(2026, 11, 23, tzinfo=UTC)


def _engine() -> PartitionEngine:
    return PartitionEngine(0, RULES.model, RULES.policies)


@pytest.fixture(scope="module")
def simulated() -> list[DomainEvent]:
    sim = Simulation.create(accounts=40, days=30, seed=3, end=int(END.timestamp()))
    events = [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]
    return sorted(events, key=lambda e: (e.at, e.id))


def _by_account(emits: list[Emit]) -> dict[bytes, list[tuple[str, bytes]]]:
    out: defaultdict[bytes, list[tuple[str, bytes]]] = defaultdict(list)
    for e in emits:
        out[e.key].append((e.topic, e.value))
    return dict(out)


def _stored(engine: PartitionEngine) -> dict[str, object]:
    return {a: engine.record(a) for a in sorted(engine.accounts)}


def test_each_accounts_outputs_and_state_match_on_time_wakes(
    simulated: list[DomainEvent],
) -> None:
    on_time = _engine()
    expected = on_time.process(simulated)
    expected += on_time.advance((END + timedelta(days=20)).timestamp())

    deferred = _engine()
    got: list[Emit] = []
    rng = random.Random(9)
    i = 0
    left_overdue = 0
    while i < len(simulated):
        size = rng.randint(1, 300)
        got += deferred.process(simulated[i : i + size], defer_wakes=True)
        left_overdue += deferred.overdue
        got += deferred.fire_overdue(rng.randint(0, 40))  # a random slice of the backlog
        i += size
    got += deferred.advance((END + timedelta(days=20)).timestamp(), defer_wakes=True)
    while deferred.overdue:
        got += deferred.fire_overdue(7)

    assert left_overdue > 0, "the slices should have left wakes for later"
    assert len(got) == len(expected)
    assert _by_account(got) == _by_account(expected)
    assert _stored(deferred) == _stored(on_time)
    assert got != expected, "orders differ across accounts (else nothing was deferred)"


def test_a_batch_past_midnight_wakes_only_its_own_accounts(
    simulated: list[DomainEvent],
) -> None:
    engine = _engine()
    engine.process(simulated)
    assert not engine.overdue
    late = END + timedelta(days=1, hours=1)
    who = simulated[-1].account_id
    event = UsageEvent("late-login", who, "login", late, "u-late")

    out = engine.process([event], defer_wakes=True)

    assert {e.key for e in out} <= {who.encode()}
    assert engine.overdue, "the other accounts' midnights wait"
    first = engine.fire_overdue(5)
    assert first and who.encode() not in {e.key for e in first}
    while engine.overdue:
        engine.fire_overdue(5)

    on_time = _engine()
    on_time.process(simulated)
    on_time.process([event])
    assert _stored(engine) == _stored(on_time)


def test_fire_overdue_fires_nothing_ahead_of_the_clock(simulated: list[DomainEvent]) -> None:
    engine = _engine()
    engine.process(simulated, defer_wakes=True)
    while engine.overdue:
        engine.fire_overdue(10)
    assert engine.fire_overdue(1_000) == []
    assert all(due > engine.watermark_s for due, _ in engine._heap if engine._due.get(_) == due)
