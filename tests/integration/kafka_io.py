"""Small aiokafka helpers for integration tests: produce, and read topics
until a condition holds (bounded in time)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

Record = ConsumerRecord[bytes, bytes]


async def produce(
    bootstrap: str, records: Sequence[tuple[str, bytes, bytes]], *, one_by_one: bool = False
) -> None:
    """Send ``(topic, key, value)`` records in order and wait until all are
    acknowledged. ``one_by_one``: each is acknowledged before the next is
    sent, so they reach the broker in this order across partitions too (a
    batch of sends can land on one partition before an earlier record on
    another)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for topic, key, value in records:
            if one_by_one:
                await producer.send_and_wait(topic, value=value, key=key)
            else:
                await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def read_until(
    bootstrap: str,
    topic: str | Sequence[str],
    done: Callable[[list[Record]], bool],
    keep: Callable[[Record], bool] | None = None,
    timeout: float = 60.0,
    settle: float = 0.0,
) -> list[Record]:
    """Read ``topic`` (or several) from the beginning, keeping matching records
    (all when ``keep`` is None), until ``done(kept)`` or the timeout; returns
    what was kept either way, so the caller's assertion says what was missing.
    With ``settle``, keep reading that long after ``done`` so late extras (e.g.
    duplicates) are caught too."""
    names = [topic] if isinstance(topic, str) else list(topic)
    consumer = AIOKafkaConsumer(
        *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    kept: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        settled_at: float | None = None
        while time.monotonic() < deadline:
            if settled_at is None and done(kept):
                settled_at = time.monotonic() + settle
            if settled_at is not None and time.monotonic() >= settled_at:
                break
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                kept.extend(r for r in records if keep is None or keep(r))
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return kept


def at_least(count: int) -> Callable[[list[Record]], bool]:
    """A ``done`` condition for :func:`read_until`: ``count`` records kept."""
    return lambda kept: len(kept) >= count
