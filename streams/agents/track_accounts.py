"""The one input agent: every input topic, co-partitioned on account_id.

All five input topics share a partition count, so one subscription gives a
worker every stream of the accounts it owns with no repartition hop, and one
per-account state sees usage, tickets, billing and feedback together.
The body only wires: decode -> process -> emit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from streams import metrics, topics
from streams.app import app, settings
from streams.deadletter import DeadLetterLimit
from streams.ingest import DecodedBatch, RawMessage, decode_batch

_limit = DeadLetterLimit(max_ratio=settings.deadletter_max_ratio)


def _raw(event: Any) -> RawMessage:
    msg = event.message
    return RawMessage(msg.topic, msg.partition, msg.offset, msg.key, msg.value, msg.timestamp)


async def _dead_letter(batch: DecodedBatch) -> None:
    for topic, count in batch.consumed.items():
        metrics.EVENTS_CONSUMED.labels(topic).inc(count)
    for reject in batch.rejected:
        metrics.EVENTS_REJECTED.labels(reject.topic, reject.kind).inc()
        await topics.deadletter.send(key=reject.key, value=reject.value)
        _limit.record(False)
    for _ in batch.accepted:
        _limit.record(True)


async def handle(events: Sequence[Any]) -> DecodedBatch:
    batch = decode_batch(_raw(event) for event in events)
    await _dead_letter(batch)
    return batch


@app.agent(topics.inputs)
async def track_accounts(stream: Any) -> AsyncIterator[None]:
    async for events in stream.take_events(settings.batch_size, within=settings.batch_within):
        with metrics.BATCH_SECONDS.time():
            await handle(events)
        yield None
