"""The delivery worker's loop: take entries (reclaimed ones first, then new ones
via ``XREADGROUP``), handle each as a task, never more than ``concurrency`` at once.

It takes only as many entries as it has free slots, so no entry sits pending in
a local buffer while its idle time grows toward the reclaim timeout. On stop it
takes nothing more and waits (up to a grace period) for in-flight deliveries;
anything unfinished stays pending and is reclaimed by another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.notifier.handling import DeliveryHandler
from services.notifier.model import Delivery
from services.notifier.queue import DeliveryQueue
from services.notifier.reclaimer import Reclaimer

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        queue: DeliveryQueue,
        handler: DeliveryHandler,
        reclaimer: Reclaimer,
        consumer: str,
        concurrency: int,
        block_ms: int = 1000,
    ) -> None:
        self._queue = queue
        self._handler = handler
        self._reclaimer = reclaimer
        self._consumer = consumer
        self._concurrency = concurrency
        self._block_ms = block_ms
        self._inflight: set[asyncio.Task[object]] = set()

    async def run(self, stop: asyncio.Event, grace_seconds: float) -> None:
        await self._queue.ensure_group()
        while not stop.is_set():
            free = self._concurrency - len(self._inflight)
            if free <= 0:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            deliveries = await self._reclaimer.claim(free)
            if not deliveries:
                deliveries = await self._queue.read_new(self._consumer, free, self._block_ms)
            for delivery in deliveries:
                self._submit(delivery)
        await self.drain(grace_seconds)

    def _submit(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._handler.handle(delivery), name=delivery.delivery_id)
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A bug, not a delivery failure: the entry stays pending and is reclaimed later.
            log.error("delivery %s crashed", task.get_name(), exc_info=task.exception())

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
