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
from streams.domain.events import DomainEvent, UsageEvent
from streams.processing.convert import to_domain
from streams.processing.encode import Emit
from streams.processing.rules import load_rules
from tests.unit.streams.engines import Encoding, encoding_engine

RULES = load_rules()
END = datetime(2026, 11, 23, tzinfo=UTC)


def _engine() -> Encoding:
    return encoding_engine(RULES)


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


def _stored(engine: Encoding) -> dict[str, object]:
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


def test_a_batch_read_again_settles_its_accounts_after_their_due_wakes(
    simulated: list[DomainEvent],
) -> None:
    """At-least-once: a batch can come again (the consumer re-reads after a
    rebalance) while the midnights it passed still have wakes deferred. Its
    events are duplicates, settled at the partition clock, so each account's
    wakes due by the clock must fire first, at their due times, as when none
    was deferred. Live, the day's rescore was otherwise stamped with the
    clock's time, or lost when the clock had passed two midnights
    (``tests/integration/test_rebalance.py`` saw both)."""
    rng = random.Random(5)
    batches: list[list[DomainEvent]] = []
    for i in range(0, len(simulated), 250):
        batches.append(simulated[i : i + 250])
        if rng.random() < 0.3:
            batches.append(batches[-1])  # delivered again
    on_time = _engine()
    expected = [emit for batch in batches for emit in on_time.process(batch)]

    deferred = _engine()
    got: list[Emit] = []
    again_while_overdue = 0
    for previous, batch in zip([None, *batches], batches, strict=False):
        again_while_overdue += batch is previous and deferred.overdue
        got += deferred.process(batch, defer_wakes=True)
        got += deferred.fire_overdue(rng.randint(0, 5))
    while deferred.overdue:
        got += deferred.fire_overdue(7)

    assert again_while_overdue > 0, "some batch must come again with wakes still deferred"
    assert _by_account(got) == _by_account(expected)
    assert _stored(deferred) == _stored(on_time)
