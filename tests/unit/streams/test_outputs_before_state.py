"""A persisted state is sent only once the outputs it includes are delivered:
a changelog record that reached Kafka before the alert it implies would,
after a kill -9, make the new owner take the input as done, and the alert
would never be sent. The producer here completes deliveries by hand."""

from __future__ import annotations

import asyncio

from streams.processing.deadletter import DeadLetterLimit
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups.batching import BatchingSink
from tests.unit.streams.fastpath_support import PARTITIONS, Store, batches
from tests.unit.streams.test_batching_delivered import Producer


def test_a_state_write_waits_for_the_outputs_before_it() -> None:
    async def run() -> None:
        producer = Producer()
        sink = BatchingSink(producer, linger_ms=5)  # type: ignore[arg-type]
        pipeline = Pipeline(
            Runtime(load_rules(), PARTITIONS, {}), sink, Store(), DeadLetterLimit(max_ratio=1.0)
        )
        await pipeline.handle(batches(20, 400)[0], persist=False)
        outputs = len(producer.deliveries)
        assert outputs, "the batch must have produced outputs"
        pipeline.begin_persist()
        write = asyncio.create_task(pipeline.persist_slice(None))
        await asyncio.sleep(0.05)
        assert not write.done() and len(producer.deliveries) == outputs, "state sent first"
        for delivery in producer.deliveries:
            delivery.set_result(None)
        assert await write > 0
        assert len(producer.deliveries) > outputs

    asyncio.run(run())
