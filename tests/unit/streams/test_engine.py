"""The partition engine: ordering rule, batch-size independence, restart
without loss or repeat, time-driven decay and dunning timers. Pure: no broker."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.inputs import decode_event
from services.simulator import Simulation
from streams.domain.events import AccountProfile, BillingEvent, DomainEvent, UsageEvent
from streams.processing.convert import to_domain
from streams.processing.encode import Emit
from streams.processing.rules import load_rules
from tests.unit.streams.engines import Encoding, encoding_engine

RULES = load_rules()
END = datetime(2026, 11, 23, tzinfo=UTC)
START = END - timedelta(days=40)


def _engine() -> Encoding:
    return encoding_engine(RULES)


@pytest.fixture(scope="module")
def simulated() -> list[DomainEvent]:
    sim = Simulation.create(accounts=12, days=40, seed=11, end=int(END.timestamp()))
    return [to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()]


def _ids(emits: list[Emit]) -> list[tuple[str, bytes]]:
    return [(e.topic, e.value) for e in emits]


def test_batch_cuts_and_arrival_order_do_not_change_outputs(simulated: list[DomainEvent]) -> None:
    whole = _engine().process(simulated)
    engine = _engine()
    shuffled: list[Emit] = []
    rng = random.Random(5)
    i = 0
    while i < len(simulated):
        size = rng.randint(1, 400)
        chunk = simulated[i : i + size]
        rng.shuffle(chunk)  # arrival order inside a batch must not matter
        shuffled.extend(engine.process(chunk))
        i += size
    assert whole, "the simulation should produce outputs"
    assert _ids(shuffled) == _ids(whole)


def test_restart_from_stored_records_loses_and_repeats_nothing(
    simulated: list[DomainEvent],
) -> None:
    uninterrupted = _engine().process(simulated)
    first = _engine()
    half = len(simulated) // 2
    out = first.process(simulated[:half])
    stored = _stored(first)
    second = _engine()
    second.restore(stored)
    out += second.process(simulated[half:])
    assert _ids(out) == _ids(uninterrupted)


def test_redelivered_batch_after_restart_emits_the_same_ids(simulated: list[DomainEvent]) -> None:
    engine = _engine()
    part = simulated[:2000]
    engine.process(part)
    stored = _stored(engine)
    again = _engine()
    again.restore(stored)
    # At-least-once: the last batch comes again; duplicates are dropped by id.
    repeat = again.process(part[-50:])
    assert not [e for e in repeat if e.topic != "cs.health.v1"]


def _login(n: int, at: datetime, user: str = "u1") -> UsageEvent:
    return UsageEvent(id=f"l-{n}", account_id="quiet", kind="login", at=at, user_id=user)


def test_silent_account_drops_below_threshold_on_ticks_alone() -> None:
    engine = _engine()
    profile = AccountProfile(
        id="p", account_id="quiet", at=START, name="Quiet", segment="smb", owner="csm@example.com"
    )
    events: list[DomainEvent] = [profile]
    for day in range(30):
        for user in range(4):
            events.append(_login(day * 10 + user, START + timedelta(days=day, hours=9), f"u{user}"))
    out = engine.process(events)
    assert not [e for e in out if e.kind == "health_below_threshold"]
    later: list[Emit] = []
    for day in range(31, 80):
        later += engine.advance((START + timedelta(days=day)).timestamp())
    kinds = [e.kind for e in later]
    assert "health_below_threshold" in kinds
    assert "inactivity" in kinds
    alert = next(e for e in later if e.kind == "health_below_threshold")
    body = json.loads(alert.value)
    assert body["data"]["score"] < 60
    assert body["data"]["owner"] == "csm@example.com"
    assert kinds.count("health_below_threshold") == 1


def test_dunning_timers_fire_on_the_event_time_clock() -> None:
    engine = _engine()
    failed = BillingEvent(
        id="b1",
        account_id="payer",
        kind="payment_failed",
        at=START,
        invoice_id="in_1",
        amount_cents=4900,
        currency="USD",
        decline_code="insufficient_funds",
    )
    first = [e.kind for e in engine.process([failed]) if e.topic == "cs.dunning.v1"]
    assert first == ["payment_failed_notice", "retry_scheduled"]
    later = [
        e.kind
        for day in range(1, 25)
        for e in engine.advance((START + timedelta(days=day)).timestamp())
        if e.topic == "cs.dunning.v1"
    ]
    assert later.count("canceled") == 1
    assert "grace_started" in later
    tail = engine.advance((START + timedelta(days=60)).timestamp())
    assert [e.kind for e in tail if e.topic == "cs.dunning.v1"] == []


def _stored(engine: Encoding) -> list[tuple[str, Any]]:
    """The dirty accounts' records, through JSON as the table keeps them."""
    return [(a, json.loads(json.dumps(engine.record(a)))) for a in engine.take_dirty_ids()]
