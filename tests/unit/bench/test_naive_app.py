"""The naive baseline does the pipeline's scoring: over a day of simulated
events (no midnight, so no timers, which it does not have), one event at a
time through its agent step and a dict standing in for its table, it sends the
same health and alert records, byte for byte, as the partition engine emits
(its dunning differs: it has no timers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas import topics
from schemas.inputs import decode_event
from services.bench import naive_app
from services.simulator import Simulation
from streams.domain.scoring.windows import DAY_SECONDS
from streams.processing.convert import to_domain
from streams.processing.encode import encode
from streams.processing.engine import PartitionEngine
from tests.unit.domain.factories import at_day, make_billing, make_login

END = int(datetime(2026, 11, 20, 18, tzinfo=UTC).timestamp())


def test_naive_step_emits_what_the_engine_emits() -> None:
    sim = Simulation.create(accounts=40, days=2, seed=3, end=END)
    day = END // DAY_SECONDS
    events = sorted(
        (to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()),
        key=lambda e: (e.at, e.id),
    )
    events = [e for e in events if int(e.at.timestamp()) // DAY_SECONDS == day]
    engine = PartitionEngine(0, naive_app.RULES.model, naive_app.RULES.policies)
    scored = (topics.HEALTH, topics.ALERTS)
    threshold = naive_app.RULES.model.alerts.threshold
    expected = [
        (e.topic, e.key, e.value)
        for e in encode(engine.process(events), threshold)
        if e.topic in scored
    ]

    table: dict[str, dict[str, Any]] = {}
    sent = []
    for event in events:
        table[event.account_id], out = naive_app.step(table.get(event.account_id, {}), event)
        sent.extend((e.topic, e.key, e.value) for e in out if e.topic in scored)

    assert len(events) > 400
    assert any(topic == topics.HEALTH for topic, _, _ in expected)
    assert sent == expected


def test_naive_declares_an_output_for_every_topic_the_domain_emits() -> None:
    """A churn and a reactivation send lifecycle records: the naive agent must
    have an output topic for them, or its agent crashes on the first churn in a
    bench history (a ``KeyError`` on its outputs)."""
    history = [make_login(at=at_day(d)) for d in range(10)]
    history += [make_billing("subscription_canceled", at_day(10), reason="budget_cut")]
    history += [make_login(at=at_day(12))]
    stored: dict[str, Any] = {}
    sent: set[str] = set()
    for event in history:
        stored, out = naive_app.step(stored, event)
        sent.update(record.topic for record in out)
    assert topics.LIFECYCLE in sent
    assert sent <= set(naive_app.outputs)


def test_naive_step_skips_an_event_older_than_its_accounts_retention() -> None:
    stored, _ = naive_app.step({}, make_login(at=at_day(200)))
    assert naive_app.step(stored, make_login(at=at_day(100))) == (stored, [])
