"""``healthscore_events_held``: what alignment holds is exported, so that
consumed minus held is what the engine was handed (the bench's window counts
that, ``services.bench.runner.consumed_in``)."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from schemas import topics
from services.simulator import Simulation
from streams.processing.align import Aligner, never_behind
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from tests.unit.streams.fastpath_support import PARTITIONS, Sink, Store

END = 1_790_000_000


def held_gauge() -> float | None:
    return REGISTRY.get_sample_value("healthscore_events_held")


def tickets_never_read(topic: str, partition: int) -> bool:
    return topic == topics.TICKETS


def test_the_gauge_follows_what_alignment_holds() -> None:
    usage = [
        (topic, key, value)
        for topic, key, value in Simulation.create(accounts=20, days=3, seed=7, end=END).events()
        if topic == topics.USAGE
    ]
    messages = [
        RawMessage(topic, partition_for(key.decode(), PARTITIONS), offset, key, value)
        for offset, (topic, key, value) in enumerate(usage)
    ]
    aligner = Aligner(topics.INPUT_TOPICS)
    pipeline = Pipeline(
        Runtime(load_rules(), PARTITIONS, {}),
        Sink(),  # type: ignore[arg-type]
        Store(),
        DeadLetterLimit(max_ratio=1.0),
        aligner=aligner,
    )

    async def run() -> tuple[int, float | None, float | None, float | None]:
        # Tickets behind and never read: every usage input waits for them.
        await pipeline.handle(messages[:100], persist=False, behind=tickets_never_read)
        holding, held = aligner.holding, held_gauge()
        await pipeline.release(never_behind)
        released = held_gauge()
        await pipeline.handle(messages[100:], persist=False, behind=tickets_never_read)
        pipeline.drop_held()
        return holding, held, released, held_gauge()

    holding, held, released, dropped = asyncio.run(run())
    assert holding == 100
    assert held == 100
    assert released == 0
    assert dropped == 0
