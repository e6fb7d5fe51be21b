"""A backlog gives what replay gives: a simulated history is produced in full
to all five input topics before the worker starts, and the worker, with its
default batch settings, reads it fetch by fetch - a topic's records days of
event time ahead of another's. Its health, alert and dunning events must be
byte-identical to ``healthscore replay`` of the same events
(``streams.processing.align`` applies each partition's inputs in event-time
order whatever the fetch order).

Apache Kafka, not Tansu: the alignment asks the consumer whether the broker
still has records of a partition (position below the high-water mark), and
Tansu reports high-water marks short."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from schemas import topics
from services.simulator import Simulation
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.replaying import HISTORY_END, OUTPUTS, PARTITIONS, replay_outputs
from tests.integration.worker_process import running_worker


@pytest.mark.timeout(420)
async def test_a_backlog_read_with_default_batches_matches_replay(
    fresh_apache_kafka_bootstrap: str, tmp_path: Path
) -> None:
    sim = Simulation.create(accounts=60, days=40, seed=36, end=HISTORY_END)
    events = list(sim.events())
    assert {topic for topic, _, _ in events} >= set(topics.INPUT_TOPICS[:5])
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _topic, _key, value in events))
    expected = replay_outputs(path)
    assert expected[topics.ALERTS] and expected[topics.DUNNING], "scenario must alert and dun"

    bootstrap = fresh_apache_kafka_bootstrap
    await ensure_topics(bootstrap, PARTITIONS)
    await produce(bootstrap, events)
    live: dict[str, list[bytes]] = {}
    with running_worker(bootstrap, "backlog", tmp_path / "worker"):
        for topic in OUTPUTS:
            want = len(expected[topic])
            records = await read_until(
                bootstrap,
                topic,
                done=lambda kept, want=want: len(kept) >= want,
                timeout=180,
                settle=2.0,
            )
            live[topic] = [r.value for r in records]

    for topic in OUTPUTS:
        missing = Counter(expected[topic]) - Counter(live[topic])
        extra = Counter(live[topic]) - Counter(expected[topic])
        assert not missing and not extra, (
            f"{topic}: {sum(missing.values())} of {len(expected[topic])} expected records"
            f" missing or different, {sum(extra.values())} unexpected"
        )
