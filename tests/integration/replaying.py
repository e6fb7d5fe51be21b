"""What ``healthscore replay`` emits for a file, grouped by output topic:
the expected side of the live-vs-replay integration tests."""

from __future__ import annotations

from pathlib import Path

from schemas import topics
from services.replay import ReplaySummary, read_events, replay_events
from streams.config import load_rules
from streams.engine import PartitionEngine

PARTITIONS = 4
OUTPUTS = (topics.HEALTH, topics.ALERTS, topics.DUNNING)


def replay_outputs(path: Path, partitions: int = PARTITIONS) -> dict[str, list[bytes]]:
    rules = load_rules()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(partitions)}
    emitted = replay_events(read_events(path, ReplaySummary()), engines, partitions)
    out: dict[str, list[bytes]] = {topic: [] for topic in OUTPUTS}
    for record in emitted:
        out[record.topic].append(record.value)
    return out
