"""Take over deliveries a dead worker left pending (``XAUTOCLAIM``).

An entry is pending from ``XREADGROUP`` until its outcome is recorded. If its
worker died (``kill -9``, OOM, node loss), nobody else would ever see it; after
``min_idle_ms`` without progress another worker claims it and tries again. The
idle timeout must exceed the longest attempt (settings enforce 1.5 x the delivery
timeout), or a slow but live delivery would be sent twice.

The worker loop asks the reclaimer first, then the stream, with the same free
slots, so reclaimed entries obey the same concurrency bound as new ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from services.notifier.model import Delivery
from services.notifier.queue import DeliveryQueue

log = logging.getLogger(__name__)

_START = (b"0-0", "0-0")


class Reclaimer:
    """Scans the group's pending list once per ``interval_seconds`` (continuing a
    started scan at once, so a large backlog of orphans is taken in one go)."""

    def __init__(
        self,
        queue: DeliveryQueue,
        consumer: str,
        min_idle_ms: int,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue = queue
        self._consumer = consumer
        self._min_idle_ms = min_idle_ms
        self._interval = interval_seconds
        self._clock = clock
        self._cursor: bytes = b"0-0"
        self._next_scan_at = 0.0

    async def claim(self, limit: int) -> list[Delivery]:
        if limit <= 0 or self._clock() < self._next_scan_at:
            return []
        self._cursor, deliveries = await self._queue.reclaim(
            self._consumer, self._min_idle_ms, limit, self._cursor
        )
        if self._cursor in _START:  # the pass over the pending list is complete
            self._next_scan_at = self._clock() + self._interval
        if deliveries:
            log.warning("reclaimed %d stalled deliveries", len(deliveries))
        return deliveries
