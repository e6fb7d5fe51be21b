"""Reading topics back after a phase: input windows, outputs, changelogs.

Two stopping rules, because the broker cannot be trusted for end offsets
(Tansu's high-water marks are short): up to known end offsets (what the bench
produced itself), or until the topic has been quiet for ``idle`` seconds
(what another process produced, read after that process has caught up).
Records are handed to a visitor rather than collected, so reading a million
health records back does not hold a million values in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Visitor = Callable[[ConsumerRecord[bytes, bytes]], None]


async def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    return consumer


async def read_range(
    bootstrap: str,
    start: Mapping[tuple[str, int], int],
    end: Mapping[tuple[str, int], int],
    visit: Visitor,
    max_wait: float = 120.0,
) -> None:
    """Visit every record in ``[start, end)`` of each (topic, partition) in ``end``."""
    consumer = await _consumer(bootstrap)
    try:
        remaining = {
            TopicPartition(t, p): n for (t, p), n in end.items() if n > start.get((t, p), 0)
        }
        consumer.assign(list(remaining))
        for tp in remaining:
            consumer.seek(tp, start.get((tp.topic, tp.partition), 0))
        deadline = time.monotonic() + max_wait
        while remaining and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                stop = remaining.get(tp)
                if stop is None:
                    continue
                for record in records:
                    if record.offset < stop:
                        visit(record)
                if records[-1].offset + 1 >= stop:
                    del remaining[tp]
    finally:
        await consumer.stop()


async def read_until_idle(
    bootstrap: str, topics: Iterable[str], visit: Visitor, idle: float = 3.0
) -> int:
    """Visit every record of ``topics`` from the beginning until none arrives for
    ``idle`` seconds; returns the number of records visited."""
    # Subscribing without a group gets every partition from the start
    # (auto_offset_reset=earliest, nothing committed) and fetches the metadata
    # itself; assign() would need partition counts the client may not have cached.
    names = list(topics)
    if not names:
        return 0
    consumer = AIOKafkaConsumer(
        *names,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen = 0
    try:
        for _ in range(300):  # the idle clock starts once partitions are assigned (<= 15 s)
            if consumer.assignment():
                break
            await asyncio.sleep(0.05)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    visit(record)
                seen += len(records)
            if batches:
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return seen


async def list_topics(bootstrap: str) -> list[str]:
    consumer = await _consumer(bootstrap)
    try:
        return sorted(await consumer.topics())
    finally:
        await consumer.stop()
