"""The delivery worker's read loop: ``XREADGROUP`` new entries, handle each as a
task, never more than ``concurrency`` at once.

It reads only as many entries as it has free slots, so no entry sits pending in
a local buffer while its idle time grows toward the reclaim timeout. On stop it
reads nothing more and waits (up to a grace period) for in-flight deliveries;
anything still unfinished stays pending and is reclaimed by another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.notifier.handling import DeliveryHandler
from services.notifier.model import Delivery
from services.notifier.queue import DeliveryQueue

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        queue: DeliveryQueue,
        handler: DeliveryHandler,
        consumer: str,
        concurrency: int,
        block_ms: int = 1000,
    ) -> None:
        self.queue = queue
        self.consumer = consumer
        self._handler = handler
        self._concurrency = concurrency
        self._block_ms = block_ms
        self._inflight: set[asyncio.Task[object]] = set()
        self._reserved = 0

    def reserve(self) -> int:
        """Claim every free slot for one read; pair with ``release`` of the unused."""
        free = max(0, self._concurrency - len(self._inflight) - self._reserved)
        self._reserved += free
        return free

    def release(self, unused: int) -> None:
        self._reserved -= unused

    def submit(self, delivery: Delivery) -> None:
        """Start handling a reserved entry (from a read or a reclaim)."""
        self._reserved -= 1
        task = asyncio.create_task(self._handler.handle(delivery), name=delivery.delivery_id)
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A bug, not a delivery failure: the entry stays pending and is reclaimed later.
            log.error("delivery %s crashed", task.get_name(), exc_info=task.exception())

    async def run(self, stop: asyncio.Event, grace_seconds: float) -> None:
        await self.queue.ensure_group()
        while not stop.is_set():
            reserved = self.reserve()
            if reserved == 0:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                deliveries = await self.queue.read_new(self.consumer, reserved, self._block_ms)
            except BaseException:
                self.release(reserved)
                raise
            self.release(reserved - len(deliveries))
            for delivery in deliveries:
                self.submit(delivery)
        await self.drain(grace_seconds)

    async def drain(self, grace_seconds: float) -> None:
        if not self._inflight:
            return
        _done, pending = await asyncio.wait(self._inflight, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            log.warning("%d deliveries unfinished at stop; they will be reclaimed", len(pending))
