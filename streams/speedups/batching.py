"""Two ways to hand records to aiokafka, and why the batching one is the default.

Used by the simulator (load generation) and by the worker's fast path (outputs,
dead letters and table changelog records): ``BatchingSink`` is the worker's
``streams.processing.sink.Sink``.

Measured here (2 cores, Tansu on loopback, 150-byte events): ``producer.send()``
per event tops out near 20k events/s. Its per-message path is pure Python:
a murmur2 hash in Python (~10 us), the partition list rebuilt twice, a
``TopicPartition`` and a future per message. :class:`BatchingSink` does the same
work once per batch instead: it partitions each key with aiokafka's own
``DefaultPartitioner`` (murmur2, the Java client's choice, so the simulator's
events land where any other producer's would: co-partitioning holds), caches
the result per key, fills one ``BatchBuilder`` per topic-partition (its append
is C code) and submits full batches, or any batch older than the linger time,
with ``send_batch``. Delivery futures are per batch, kept in a bounded window.

:class:`SendSink` is the per-message ``send()`` path, kept for comparison
(``bench/simulate_throughput.py``) and as the simplest correct reference.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from streams.processing.binding import Headers
from streams.processing.sink import Record

#: What a record without headers hands ``BatchBuilder.append`` (which only reads it).
_NO_HEADERS: Headers = []


class CachingPartitioner:
    """aiokafka's ``DefaultPartitioner`` with the result cached per key and partition
    count: a simulation has a few thousand keys, each sent thousands of times."""

    def __init__(self) -> None:
        self._default = DefaultPartitioner()
        self._cache: dict[tuple[bytes, int], int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(self._default(key, all_partitions, available))
        slot = (key, len(all_partitions))
        partition = self._cache.get(slot)
        if partition is None:
            partition = self._cache[slot] = int(self._default(key, all_partitions, available))
        return partition


class SendSink:
    """Per-message ``producer.send()`` with a bounded window of delivery futures."""

    def __init__(self, producer: AIOKafkaProducer, max_in_flight: int) -> None:
        self._producer = producer
        self._pending: deque[asyncio.Future[Any]] = deque()
        self._high = max_in_flight
        self._low = max_in_flight // 2

    async def send(self, events: Sequence[Record]) -> None:
        send = self._producer.send
        pending = self._pending
        for record in events:
            topic, key, value = record[0], record[1], record[2]
            headers = record[3] if len(record) == 4 else None
            pending.append(await send(topic, value, key=key, headers=headers))
        if len(pending) > self._high:
            while len(pending) > self._low:
                await pending.popleft()  # raises if that delivery failed

    async def flush(self) -> None:
        """Wait for every outstanding delivery; raises the first failure."""
        await self._producer.flush()
        while self._pending:
            await self._pending.popleft()


class BatchingSink:
    """Builds per-partition batches itself and submits them with ``send_batch``;
    a record's headers, when it has them, go into the batch with it."""

    def __init__(
        self, producer: AIOKafkaProducer, *, linger_ms: int, max_in_flight_batches: int = 256
    ) -> None:
        self._producer = producer
        self._linger = linger_ms / 1000
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._key_partition: dict[str, dict[bytes, int]] = {}
        self._builders: dict[tuple[str, int], tuple[Any, float]] = {}
        self._pending: deque[asyncio.Future[Any]] = deque()
        #: Batches handed to the producer so far; with ``_pending`` (the
        #: undelivered tail, oldest first) it answers ``delivered``.
        self.shipped = 0
        self._max_in_flight = max_in_flight_batches
        self._lock = asyncio.Lock()
        self._linger_task: asyncio.Task[None] | None = None
        #: The first delivery that failed. It stays raised: once a record is
        #: lost, nothing this sink's owner does later (a commit at shutdown, a
        #: state persist) may go ahead as if it had been delivered.
        self._failure: BaseException | None = None

    async def _partition_map(self, topic: str) -> dict[bytes, int]:
        partitions = sorted(await self._producer.partitions_for(topic))
        self._partitions[topic] = partitions
        return self._key_partition.setdefault(topic, {})

    def _partition_of(self, topic: str, key: bytes, cache: dict[bytes, int]) -> int:
        partitions = self._partitions[topic]
        partition = cache[key] = int(self._partitioner(key, partitions, partitions))
        return partition

    def _settle(self, future: asyncio.Future[Any]) -> None:
        """Take a finished delivery's result; a failure is kept (see ``_failure``)."""
        exc = future.exception()
        if exc is not None:
            if self._failure is None:
                self._failure = exc
            raise exc

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _raise_linger_failure(self) -> None:
        self._raise_failure()
        task = self._linger_task
        if task is not None and task.done():
            self._linger_task = None
            if not task.cancelled():
                task.result()  # re-raises what stopped the linger loop

    async def send(self, events: Sequence[Record]) -> None:
        self._raise_linger_failure()
        async with self._lock:
            builders = self._builders
            maps = self._key_partition
            for record in events:
                topic, key, value = record[0], record[1], record[2]
                headers = record[3] if len(record) == 4 else _NO_HEADERS
                cache = maps.get(topic)
                if cache is None:
                    cache = await self._partition_map(topic)
                partition = cache.get(key)
                if partition is None:
                    partition = self._partition_of(topic, key, cache)
                entry = builders.get((topic, partition))
                if entry is None:
                    entry = builders[(topic, partition)] = (self._producer.create_batch(), 0.0)
                if entry[0].append(timestamp=None, key=key, value=value, headers=headers) is None:
                    await self._ship(topic, partition)
                    builder = self._producer.create_batch()
                    builders[(topic, partition)] = (builder, 0.0)
                    if (
                        builder.append(timestamp=None, key=key, value=value, headers=headers)
                        is None
                    ):
                        raise ValueError(f"an event of {len(value)} bytes exceeds the batch size")
            await self._ship_lingering(time.monotonic())
        if self._linger_task is None:
            self._linger_task = asyncio.create_task(self._linger_loop())

    async def _ship(self, topic: str, partition: int) -> None:
        builder, _ = self._builders.pop((topic, partition))
        builder.close()  # a closed batch is sent at once; we did the lingering already
        self._pending.append(await self._producer.send_batch(builder, topic, partition=partition))
        self.shipped += 1
        while len(self._pending) > self._max_in_flight:
            oldest = self._pending.popleft()
            await asyncio.wait((oldest,))
            self._settle(oldest)  # raises if that delivery failed
        while self._pending and self._pending[0].done():
            self._settle(self._pending.popleft())

    async def _ship_lingering(self, now: float) -> None:
        """Ship batches that have waited ``linger`` since their first event (stamped
        here, once per chunk, rather than per append)."""
        for tp, (builder, since) in list(self._builders.items()):
            if since == 0.0:
                self._builders[tp] = (builder, now)
            elif now - since >= self._linger:
                await self._ship(*tp)

    async def _linger_loop(self) -> None:
        """Ships what an idle or slow feed left behind, so a paced event is not held
        back until the next chunk arrives."""
        while True:
            await asyncio.sleep(self._linger)
            async with self._lock:
                await self._ship_lingering(time.monotonic())

    def delivered(self, through: int) -> bool:
        """Whether the first ``through`` batches shipped (``shipped`` read
        after a send) have all been delivered: a caller with bulk records can
        wait for its last ones rather than queue behind them. aiokafka keeps
        one produce request in flight per broker and one queued batch per
        partition, so a bulk send would otherwise hold up the small ones.
        Raises the failure of a batch that could not be delivered: whatever
        waited on it (an offset commit) must not go ahead."""
        self._raise_failure()
        undelivered_from = self.shipped - len(self._pending)
        for i, future in enumerate(self._pending, start=undelivered_from):
            if i >= through:
                return True
            if not future.done():
                return False
            self._settle(future)  # raises if that delivery failed
        return True

    async def wait_delivered(self, through: int) -> None:
        """Wait until the first ``through`` batches shipped are delivered;
        raises the first that failed, or one that failed before."""
        self._raise_failure()
        undelivered_from = self.shipped - len(self._pending)
        for i, future in enumerate(list(self._pending), start=undelivered_from):
            if i >= through:
                return
            await asyncio.wait((future,))
            self._settle(future)

    async def ship_all(self) -> None:
        """Hand every open batch to the producer now, without waiting for delivery:
        the worker calls it before acking a batch, so the producer flush that
        precedes each offset commit covers everything the batch produced."""
        self._raise_linger_failure()
        async with self._lock:
            for tp in list(self._builders):
                await self._ship(*tp)

    async def flush(self) -> None:
        """Ship every open batch and wait for every delivery; raises the first failure."""
        self._raise_linger_failure()
        if self._linger_task is not None:
            self._linger_task.cancel()
            self._linger_task = None
        async with self._lock:
            for tp in list(self._builders):
                await self._ship(*tp)
        await self._producer.flush()
        while self._pending:
            oldest = self._pending.popleft()
            await asyncio.wait((oldest,))
            self._settle(oldest)


def fail_flush_on_lost_sends(producer: Any, sink: BatchingSink) -> None:
    """Make ``producer.flush()`` (Faust's producer service) raise when a batch
    the sink shipped could not be delivered.

    Faust flushes its producer before every offset commit, and aiokafka's
    flush waits for the in-flight batches without raising for those that
    failed: offsets were committed over outputs or state that never reached
    Kafka, and those inputs were never read again. Raising here fails the
    commit instead; the consumer stops, and the inputs are read again from the
    last good commit (at-least-once, never skipped)."""
    flush = producer.flush

    async def flush_and_check() -> None:
        await flush()
        await sink.wait_delivered(sink.shipped)

    producer.flush = flush_and_check
