"""Small aiokafka helpers for integration tests: produce, and read a topic
until a condition holds (bounded in time)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord


async def produce(bootstrap: str, records: Sequence[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    keep: Callable[[ConsumerRecord[bytes, bytes]], bool],
    timeout: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topic`` from the beginning, keeping matching records, until
    ``done(kept)`` or the timeout; returns what was kept either way."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    kept: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(kept):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                kept.extend(r for r in records if keep(r))
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return kept
