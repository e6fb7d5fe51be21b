"""The fast way in: fetched batches straight from Faust's consumer loop.

State is written once per dirty account per persist interval (Kafka Streams'
record cache does the same), not once per batch: a busy account changes many
times between two commits, and every changelog record costs a serialisation
and a produce. Messages are acked only after the state they changed has been
handed to the producer, and Faust flushes the producer before it commits
acked offsets - so a committed offset never runs ahead of its state.
Outputs are not delayed: each batch's outputs go out with the batch.

A lock keeps a batch (process + ship outputs) and a persist from interleaving:
a persist in the middle of a batch could save state whose outputs were not yet
produced, and a crash then would drop them as duplicates on replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from streams import metrics
from streams.faust_patches import ack_batch, track_batch
from streams.pipeline import Pipeline


class FastIngest:
    def __init__(self, pipeline: Callable[[], Pipeline], persist_every: float) -> None:
        self._pipeline = pipeline
        self._persist_every = persist_every
        #: Held by anything that changes or persists state: batches, persists, ticks.
        self.lock = asyncio.Lock()
        #: Fetched batches processed but not yet acked, with their consumer.
        self._unacked: list[tuple[Any, list[Any]]] = []
        self._next_persist = 0.0

    async def on_batch(self, consumer: Any, messages: list[Any]) -> None:
        """The ``streams.faust_patches`` divert handler."""
        track_batch(consumer, messages)  # a rebalance waits for these
        async with self.lock:
            with metrics.BATCH_SECONDS.time():
                await self._pipeline().handle(messages, persist=False)
            self._unacked.append((consumer, messages))
            if time.monotonic() >= self._next_persist:
                await self._persist_and_ack()

    async def flush(self) -> None:
        """Persist and ack what is pending (timer, so an idle feed still commits)."""
        async with self.lock:
            await self._persist_and_ack()

    async def _persist_and_ack(self) -> None:
        await self._pipeline().persist()
        for consumer, messages in self._unacked:
            ack_batch(consumer, messages)
        self._unacked.clear()
        self._next_persist = time.monotonic() + self._persist_every
