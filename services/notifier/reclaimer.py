"""Take over deliveries a dead worker left pending (``XAUTOCLAIM``).

An entry is pending from ``XREADGROUP`` until its outcome is recorded. If its
worker died (``kill -9``, OOM, node loss), nobody else would ever see it; after
``min_idle_ms`` without progress another worker claims it and tries again. The
idle timeout must exceed the longest attempt (settings enforce 1.5 x the delivery
timeout), or a slow but live delivery would be sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.notifier.worker import DeliveryWorker

log = logging.getLogger(__name__)


async def reclaim_once(worker: DeliveryWorker, min_idle_ms: int, cursor: bytes) -> bytes:
    """Claim up to the worker's free slots; returns the next scan cursor."""
    reserved = worker.reserve()
    if reserved == 0:
        return cursor
    try:
        cursor, deliveries = await worker.queue.reclaim(
            worker.consumer, min_idle_ms, reserved, cursor
        )
    except BaseException:
        worker.release(reserved)
        raise
    worker.release(reserved - len(deliveries))
    if deliveries:
        log.warning("reclaimed %d stalled deliveries", len(deliveries))
    for delivery in deliveries:
        worker.submit(delivery)
    return cursor


async def run_reclaimer(
    worker: DeliveryWorker, min_idle_ms: int, interval_seconds: float, stop: asyncio.Event
) -> None:
    await worker.queue.ensure_group()
    cursor = b"0-0"
    while not stop.is_set():
        cursor = await reclaim_once(worker, min_idle_ms, cursor)
        if cursor in (b"0-0", "0-0"):  # a full pass over the pending list is done
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_seconds)
