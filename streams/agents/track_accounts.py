"""The one input agent: every input topic, co-partitioned on account_id.

All five input topics share a partition count, so one subscription gives a
worker every stream of the accounts it owns with no repartition hop, and one
per-account state sees usage, tickets, billing and feedback together.
The body only wires: decode -> engines -> persist -> emit.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from streams import metrics, topics
from streams.app import app, settings
from streams.config import load_rules
from streams.deadletter import DeadLetterLimit
from streams.ingest import DecodedBatch, RawMessage, decode_batch
from streams.outputs import Emit
from streams.runtime import Runtime
from streams.tables import accounts

_limit = DeadLetterLimit(max_ratio=settings.deadletter_max_ratio)
_runtime: Runtime | None = None
_OUTPUT_TOPICS = {
    topics.health.get_topic_name(): topics.health,
    topics.alerts.get_topic_name(): topics.alerts,
    topics.dunning.get_topic_name(): topics.dunning,
}


def runtime() -> Runtime:
    """Built on first use, not at import: settings and the model file are read
    when the worker runs, not when a test imports the module."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(load_rules(settings.model_path), settings.partitions, accounts)
    return _runtime


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


async def emit(records: Sequence[Emit]) -> None:
    now = time.time()
    for record in records:
        await _OUTPUT_TOPICS[record.topic].send(key=record.key, value=record.value)
        if record.topic == topics.health.get_topic_name():
            metrics.HEALTH_CHANGES.inc()
            metrics.EVENT_TO_SCORE_SECONDS.labels("event").observe(max(0.0, now - record.caused_at))
        elif record.topic == topics.alerts.get_topic_name():
            metrics.ALERTS_EMITTED.labels(record.kind).inc()
            metrics.EVENT_TO_ALERT_SECONDS.labels("event").observe(max(0.0, now - record.caused_at))
        else:
            metrics.DUNNING_STEPS.labels(record.kind).inc()


async def handle(events: Sequence[Any]) -> DecodedBatch:
    batch = decode_batch(_raw(event) for event in events)
    await _dead_letter(batch)
    rt = runtime()
    before = rt_counts = _counts(rt)
    outputs = rt.process(batch.accepted)
    rt.persist()
    await emit(outputs)
    rt_counts = _counts(rt)
    if rt_counts[1] > before[1]:
        metrics.EVENTS_DUPLICATE.labels("all").inc(rt_counts[1] - before[1])
    return batch


def _counts(rt: Runtime) -> tuple[int, int]:
    engines = rt.engines.values()
    return sum(e.counts.applied for e in engines), sum(e.counts.duplicates for e in engines)


@app.agent(topics.inputs)
async def track_accounts(stream: Any) -> AsyncIterator[None]:
    async for events in stream.take_events(settings.batch_size, within=settings.batch_within):
        with metrics.BATCH_SECONDS.time():
            await handle(events)
        yield None


@app.timer(settings.tick_seconds)
async def tick_clock() -> None:
    """Live mode: silent accounts lose health as wall-clock days pass."""
    if not settings.live_tick:
        return
    rt = runtime()
    outputs = rt.tick(time.time())
    rt.persist()
    await emit(outputs)
