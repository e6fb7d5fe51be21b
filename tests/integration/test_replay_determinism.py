"""Backtesting holds: the same events through ``healthscore replay`` (no
broker) and through the live worker on a real broker give byte-identical
health, alert and dunning events - same scores, same ids, and the same
CloudEvents Kafka binding headers.

Ordering caveat the test controls: the live worker's only source of
nondeterminism is the arrival order of *different topics'* events across
batches (within a batch the engine orders by (event time, id), and the engine
unit tests show batch cuts do not matter). So the events are produced first
and the worker takes them in one batch (long ``HEALTHSCORE_BATCH_WITHIN``).

Needs a fresh Tansu (its own contract topics: other tests' events would move
the partition clocks) and runs the worker as a subprocess."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

import pytest

from schemas import topics
from services.simulator import Simulation
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.replaying import OUTPUTS, PARTITIONS, replay_records
from tests.integration.worker_process import running_worker

#: A record's headers as a consumer reads them: (name, value) pairs in order.
Headers: TypeAlias = tuple[tuple[str, bytes | None], ...]

END = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())


@pytest.mark.timeout(300)
async def test_live_worker_matches_file_replay(fresh_tansu_bootstrap: str, tmp_path: Path) -> None:
    sim = Simulation.create(accounts=16, days=35, seed=2024, end=END)
    events = list(sim.events())
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _topic, _key, value in events))
    expected: dict[str, list[tuple[bytes, Headers]]] = {topic: [] for topic in OUTPUTS}
    for emit in replay_records(path):
        expected[emit.topic].append((emit.value, tuple(emit.headers)))
    assert expected[topics.ALERTS] and expected[topics.DUNNING], "scenario must alert and dun"

    await ensure_topics(fresh_tansu_bootstrap, PARTITIONS)
    await produce(fresh_tansu_bootstrap, events)
    live: dict[str, list[tuple[bytes, Headers]]] = {}
    with running_worker(
        fresh_tansu_bootstrap,
        "determinism",
        tmp_path / "worker",
        HEALTHSCORE_BATCH_SIZE="1000000",
        HEALTHSCORE_BATCH_WITHIN="25",
    ):
        for topic in OUTPUTS:
            want = len(expected[topic])
            records = await read_until(
                fresh_tansu_bootstrap,
                topic,
                done=lambda kept, want=want: len(kept) >= want,
                keep=lambda _r: True,
                timeout=120,
                settle=2.0,
            )
            live[topic] = [(r.value, tuple(r.headers)) for r in records]

    for topic in OUTPUTS:
        # Partitions interleave differently on the wire; compare as multisets.
        assert Counter(live[topic]) == Counter(expected[topic]), topic
