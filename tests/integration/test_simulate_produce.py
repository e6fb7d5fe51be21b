"""Producing a simulation to a real Kafka-protocol broker and reading it back.

Each test gets a fresh Tansu (``fresh_tansu_bootstrap``): the simulator writes
the fixed contract topic names, and the tests count every record on them.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner

from schemas import topics
from services.simulator import EventFeed, Simulation
from services.simulator.clock import parse_rfc3339
from services.simulator.producer import ProducerSettings, produce
from services.stack.probe import run_sync
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import at_least, read_until

pytestmark = pytest.mark.integration

END = parse_rfc3339("2026-11-23T00:00:00Z")
PARTITIONS = 3
EVENTS = 20_000


@pytest.fixture
def bootstrap(fresh_tansu_bootstrap: str) -> str:
    """A fresh broker with the input topics, none compacted: every record must come back."""
    run_sync(ensure_topics(fresh_tansu_bootstrap, PARTITIONS, topics.INPUT_TOPICS, compacted=()))
    return fresh_tansu_bootstrap


async def _consume(bootstrap: str, expected: int) -> list[tuple[str, int, bytes, bytes]]:
    found = await read_until(bootstrap, topics.INPUT_TOPICS, done=at_least(expected))
    return [(r.topic, r.partition, r.key, r.value) for r in found]


@pytest.mark.parametrize("batch_api", [True, False], ids=["batching", "send"])
def test_produced_events_come_back_complete_and_keyed(bootstrap: str, batch_api: bool) -> None:
    sim = Simulation.create(accounts=200, days=30, seed=11, end=END)
    expected = list(Simulation.create(accounts=200, days=30, seed=11, end=END).events())[:EVENTS]

    async def scenario() -> tuple[int, list[tuple[str, int, bytes, bytes]]]:
        settings = ProducerSettings(bootstrap, batch_api=batch_api)
        sent = await produce(EventFeed(sim, max_events=EVENTS), settings, rate=0)
        return sent, await _consume(bootstrap, EVENTS)

    sent, records = asyncio.run(scenario())

    assert sent == EVENTS
    assert len(records) == EVENTS
    assert Counter((t, k, v) for t, _, k, v in records) == Counter(expected)
    partitioner = DefaultPartitioner()
    for _topic, partition, key, value in records:
        assert key == orjson.loads(value)["account_id"].encode()
        assert partition == partitioner(key, list(range(PARTITIONS)), [])


def test_order_per_account_is_event_time_order(bootstrap: str) -> None:
    sim = Simulation.create(accounts=50, days=10, seed=5, end=END)

    async def scenario() -> list[tuple[str, int, bytes, bytes]]:
        sent = await produce(EventFeed(sim), ProducerSettings(bootstrap), rate=0)
        return await _consume(bootstrap, sent)

    times: dict[tuple[str, bytes], list[str]] = {}
    for topic, _, key, value in asyncio.run(scenario()):
        times.setdefault((topic, key), []).append(orjson.loads(value)["time"])
    assert times and all(seq == sorted(seq) for seq in times.values())
