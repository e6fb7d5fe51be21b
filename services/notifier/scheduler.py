"""Move due retries from ``hs:deliveries:retry`` back to the stream.

The move is one Lua script (``DeliveryQueue.move_due``), so any number of
notifier processes can run this loop at once and a crash mid-move neither loses
nor duplicates a retry. It also refreshes the queue gauges, which cost three
O(1) Redis calls per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from services.notifier import metrics
from services.notifier.queue import DeliveryQueue

#: Retries moved per script call; bounds how long one call blocks Redis.
BATCH = 500


async def tick(queue: DeliveryQueue, now: float) -> int:
    moved = total = await queue.move_due(now, BATCH)
    while moved == BATCH:
        moved = await queue.move_due(now, BATCH)
        total += moved
    depth = await queue.depth()
    metrics.QUEUE_DEPTH.set(depth.stream + depth.retry)
    metrics.DEAD_LETTERS.set(depth.dead)
    return total


async def run_scheduler(
    queue: DeliveryQueue,
    interval_seconds: float,
    stop: asyncio.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    while not stop.is_set():
        await tick(queue, clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_seconds)
