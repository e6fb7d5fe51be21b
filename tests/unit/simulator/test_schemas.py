"""Everything the simulator produces passes the real contract validators."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.inputs import decode_event
from services.simulator import Simulation

END = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())


def test_every_simulated_event_is_valid_on_its_topic() -> None:
    sim = Simulation.create(accounts=40, days=30, seed=7, end=END)
    seen = 0
    for topic, key, value in sim.events():
        event = decode_event(topic, value)
        assert event.account_id.encode() == key
        seen += 1
    assert seen > 1000
