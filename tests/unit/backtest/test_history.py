"""The backtest's history: the alerts and lifecycle changes it keeps are the
ones the partition engine decides for the same events."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas import topics
from schemas.inputs import decode_event
from services.backtest.history import collect
from services.simulator import Simulation
from streams.processing.convert import to_domain
from streams.processing.encode import encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules

END = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())
RULES = load_rules()


def test_the_history_keeps_the_alerts_and_lifecycle_changes_the_engine_emits() -> None:
    sim = Simulation.create(accounts=120, days=90, seed=4, end=END)
    events = sorted(
        (to_domain(decode_event(topic, value)) for topic, _key, value in sim.events()),
        key=lambda e: (e.at, e.id),
    )
    history = collect(events, RULES)

    engine = PartitionEngine(0, RULES.model, RULES.policies)
    records = encode(engine.process(events), RULES.model.alerts.threshold)
    records += encode(engine.advance(float(END)), RULES.model.alerts.threshold)
    alerts = sorted(
        (r.key.decode(), int(r.caused_at), r.kind) for r in records if r.topic == topics.ALERTS
    )
    changes = sorted(
        (r.key.decode(), int(r.caused_at), r.kind) for r in records if r.topic == topics.LIFECYCLE
    )

    ids = history.account_ids
    assert alerts, "the simulation should raise alerts"
    assert sorted((ids[i], at, kind) for i, at, kind in history.alerts) == alerts
    assert sorted((ids[i], at, kind) for i, at, kind in history.lifecycle) == changes
