"""Every kind of decision the engine returns survives a pickle round trip, in
whichever build runs the suite (compiled first, then pure Python): the bench
pickles a replay's decisions for its floor process, and a compiled frozen
class without its own ``__reduce__`` cannot be unpickled."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from schemas.inputs import validate_python
from streams.processing.convert import to_domain
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules
from tests.e2e.scenarios import alert_flow_events


def test_every_decision_kind_round_trips_through_pickle() -> None:
    rules = load_rules()
    engine = PartitionEngine(0, rules.model, rules.policies)
    steps = alert_flow_events("acct-pickle", datetime(2026, 11, 1, tzinfo=UTC))
    events = [to_domain(validate_python(event)) for step in steps for event in step]
    decisions = engine.process(events)
    kinds = {type(decision).__name__ for decision in decisions}
    assert {"HealthChange", "DunningNotice"} <= kinds
    assert [pickle.loads(pickle.dumps(d)) for d in decisions] == decisions
