"""What ``healthscore replay`` emits for a file, grouped by output topic:
the expected side of the live-vs-replay integration tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas import topics
from services.replay import ReplaySummary, read_events, replay_events
from services.simulator import Simulation
from streams.processing.encode import Emit, encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules

PARTITIONS = 4
OUTPUTS = (topics.HEALTH, topics.ALERTS, topics.DUNNING, topics.LIFECYCLE, topics.TOUCHPOINTS)

#: A Monday: the usage histories below end there, so the last days are a weekend.
HISTORY_END = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())


def usage_history(seed: int) -> list[tuple[str, bytes, bytes]]:
    """Six days of 300 simulated accounts' usage inputs, ``(topic, key,
    value)`` in produce order: one input topic, so a partition's events
    arrive in time order."""
    sim = Simulation.create(accounts=300, days=6, seed=seed, end=HISTORY_END)
    return [e for e in sim.events() if e[0] == topics.USAGE]


def replay_records(path: Path, partitions: int = PARTITIONS) -> list[Emit]:
    """The records ``healthscore replay`` encodes for the file, in order."""
    rules = load_rules()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(partitions)}
    decided = replay_events(read_events(path, ReplaySummary()), engines, partitions)
    return encode(decided, rules.model.alerts.threshold)


def replay_outputs(path: Path, partitions: int = PARTITIONS) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {topic: [] for topic in OUTPUTS}
    for record in replay_records(path, partitions):
        out.setdefault(record.topic, []).append(record.value)
    return out
