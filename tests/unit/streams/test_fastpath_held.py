"""The fast path with event-time alignment: a batch whose inputs are held is
not acked; a drain (rebalance, shutdown) lets it go unacked, forgets the
partitions it read, and applies nothing the consumer fetches past it until
the seek to the committed offsets brings reading back there."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas.topics import INPUT_TOPICS
from streams.processing.align import Aligner
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups.fastpath import FastIngest
from streams.speedups.fetched import Fetched
from tests.unit.streams.fastpath_support import (
    PARTITIONS,
    Consumer,
    Sink,
    Store,
    batches,
    fetched_of,
)

EVERY_PARTITION = frozenset((t, p) for t in INPUT_TOPICS for p in range(PARTITIONS))


def test_a_drain_lets_held_batches_go_and_waits_for_the_seek() -> None:
    feed = batches(40, 200)
    pipeline = Pipeline(
        Runtime(load_rules(), PARTITIONS, {}),
        Sink(),  # type: ignore[arg-type]
        Store(),
        DeadLetterLimit(max_ratio=1.0),
        aligner=Aligner(INPUT_TOPICS),
    )
    acked: list[Any] = []
    ingest = FastIngest(lambda: pipeline, 5.0, ack=lambda c, b: acked.extend(b.spans))
    consumer = Consumer()

    def held_back(messages: list[Any]) -> Fetched:
        batch = fetched_of(messages)
        batch.upcoming = EVERY_PARTITION  # every partition has records still to come
        return batch

    async def run() -> None:
        first = held_back(feed[0])
        await ingest.on_batch(consumer, first)
        assert pipeline.holding and first in consumer._unacked_messages
        await ingest.drain()
        assert not pipeline.holding and not acked
        assert first not in consumer._unacked_messages  # let go: read again after the seek
        assert not pipeline.runtime.engines  # restored from the table when read again

        await ingest.on_batch(consumer, fetched_of(feed[1]))  # fetched on, no seek yet
        assert not pipeline.runtime.engines and not acked, "applied past the batch let go"

        await ingest.on_batch(consumer, fetched_of(feed[0]))  # the seek brought it back
        assert pipeline.runtime.engines and not pipeline.holding
        await ingest.on_batch(consumer, fetched_of(feed[1]))
        assert sum(e.counts.applied for e in pipeline.runtime.engines.values()) == len(
            feed[0]
        ) + len(feed[1])

    asyncio.run(run())
