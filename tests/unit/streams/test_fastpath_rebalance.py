"""A rebalance in the middle of a backlog, step by step, on the fast path with
event-time alignment (faust-streaming #502, duplicates after a scale-out
rebalance, in the form it takes here: outputs with other bytes, or lost).

Faust stops the flow, the fast path drains (``FastIngest.drain``: batches whose
inputs alignment holds are let go unacked, their partitions forgotten), the
revoked partitions are written and forgotten (``drop_revoked``), and the
consumer seeks back to the committed offsets. A chunk the fetch loop had
already checked and was handing over (it waited on an offset commit or on the
lock the drain held) reaches the fast path after the drain, past the batches
let go. Every output must still be one an uninterrupted run writes, with the
same bytes, and none may be missing; outputs may repeat (same id and bytes)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.processing.align import Aligner
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups.fastpath import FastIngest
from streams.speedups.fetched import Fetched
from tests.unit.streams.fastpath_support import PARTITIONS, Consumer, Sink, batches, fetched_of

OUTPUTS = (topics.ALERTS, topics.DUNNING, topics.HEALTH)
EVERY_PARTITION = frozenset((t, p) for t in INPUT_TOPICS for p in range(PARTITIONS))


class Worker:
    """A FastIngest over a Runtime whose table is what it wrote (as Faust's
    changelog-backed table is), with its outputs kept."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.table: dict[bytes, Any] = {}
        self.sink = sink or Sink()
        self.pipeline = Pipeline(
            Runtime(load_rules(), PARTITIONS, self.table),
            self.sink,
            self._write,
            DeadLetterLimit(max_ratio=1.0),
            aligner=Aligner(INPUT_TOPICS),
        )
        self.acked: list[Fetched] = []
        self.ingest = FastIngest(lambda: self.pipeline, 5.0, ack=lambda c, b: self.acked.append(b))
        self.consumer = Consumer()

    def _write(self, key: bytes, partition: int, record: dict[str, Any]) -> list[Any]:
        self.table[key] = dict(record)
        return [("changelog", key, b"{}")]

    async def feed(
        self, messages: list[RawMessage], *, behind: bool = False, lagging: int | None = None
    ) -> Fetched:
        """Hand ``messages`` over as one fetched chunk. ``behind``: every input
        partition still has records at the broker (all inputs held);
        ``lagging``: only that partition's topics do."""
        batch = fetched_of(messages)
        if behind:
            batch.upcoming = EVERY_PARTITION
        elif lagging is not None:
            batch.upcoming = frozenset((t, lagging) for t in INPUT_TOPICS)
        await self.ingest.on_batch(self.consumer, batch)
        return batch

    async def feed_all(self, feed: list[list[RawMessage]]) -> None:
        """Each chunk of ``feed`` in turn, then a drain: the run without a fault."""
        for messages in feed:
            await self.feed(messages)
        await self.ingest.drain()

    def outputs(self) -> dict[str, set[bytes]]:
        """Each output id with every distinct value written for it."""
        out: dict[str, set[bytes]] = {}
        for record in self.sink.records:
            topic, value = record[0], record[2]
            if topic in OUTPUTS:
                out.setdefault(f"{topic}/{orjson.loads(value)['id']}", set()).add(value)
        return out


def _assert_same_outputs(reference: Worker, worker: Worker) -> None:
    """Every output of the uninterrupted run, and each with its bytes only."""
    want, got = reference.outputs(), worker.outputs()
    assert len(want) > 50, "the feed must score"
    lost = want.keys() - got.keys()
    assert not lost, f"{len(lost)} of {len(want)} outputs lost"
    other = {k for k in got if got[k] != want.get(k)}
    assert not other, f"{len(other)} outputs with other bytes or not written uninterrupted"


def test_a_chunk_handed_over_after_a_rebalance_drain_waits_for_the_seek() -> None:
    feed = batches(60, 250)
    reference, worker = Worker(), Worker()
    tracked: list[bool] = []

    async def rebalanced() -> None:
        await worker.feed(feed[0])
        await worker.feed(feed[1], behind=True)  # held: a sibling partition lags
        assert worker.pipeline.holding
        worker.consumer.flow_active = False  # the rebalance begins
        await worker.ingest.drain()  # lets feed[1] go unacked, its partitions forgotten
        late = fetched_of(feed[2])  # checked before the flow stopped, handed over now
        await worker.ingest.on_batch(worker.consumer, late)
        tracked.append(late in worker.consumer._unacked_messages)
        await worker.pipeline.persist()  # drop_revoked: every partition is revoked
        worker.pipeline.runtime.forget(range(PARTITIONS))
        worker.consumer.flow_active = True  # assigned again, sought to the commit
        for messages in feed[1:]:
            await worker.feed(messages)
        await worker.ingest.drain()

    asyncio.run(reference.feed_all(feed))
    asyncio.run(rebalanced())
    _assert_same_outputs(reference, worker)
    assert tracked == [False], "the rebalance would wait for the chunk let go"


def test_a_chunk_fetched_before_the_seek_that_ends_a_rebalance_is_not_applied() -> None:
    """Faust turns the flow on for table recovery, and resumes the input
    partitions, before it seeks them to the committed offsets and ends the
    rebalance: a chunk fetched meanwhile can start past the commit (here, a
    chunk let go earlier moved the position on). Applied, its inputs moved
    the clock past the ones the seek then delivered again, and those
    settled at the later clock."""
    feed = batches(60, 250)
    reference, worker = Worker(), Worker()
    tracked: list[bool] = []

    async def rebalanced() -> None:
        await worker.feed(feed[0])
        await worker.ingest.drain()
        worker.consumer.flow_active = False  # the rebalance begins
        await worker.pipeline.persist()  # drop_revoked: every partition is revoked
        worker.pipeline.runtime.forget(range(PARTITIONS))
        worker.consumer.app.rebalancing = True
        worker.consumer.flow_active = True  # table recovery
        early = fetched_of(feed[2])  # from where the position had got to
        await worker.ingest.on_batch(worker.consumer, early)
        tracked.append(early in worker.consumer._unacked_messages)
        worker.consumer.app.rebalancing = False  # sought to the commit: feed[1] on
        for messages in feed[1:]:
            await worker.feed(messages)
        await worker.ingest.drain()

    asyncio.run(reference.feed_all(feed))
    asyncio.run(rebalanced())
    _assert_same_outputs(reference, worker)
    assert tracked == [False], "the rebalance would wait for the chunk let go"


def test_a_batch_behind_a_held_one_is_not_acked_before_it() -> None:
    """A chunk whose inputs are all applied but which read an input
    partition after a chunk still holding inputs is not acked before it:
    Faust commits a partition's first unbroken run of acked offsets without
    checking where it starts when no offset is committed yet, past the held
    chunk. A drain lets both go, to be read again from the committed offset."""
    feed = batches(60, 250)
    worker = Worker()

    async def run() -> tuple[Fetched, Fetched]:
        first = await worker.feed(feed[0], lagging=0)  # partition 0's inputs held
        assert worker.pipeline.holding
        later = await worker.feed([m for m in feed[1] if m.partition != 0], lagging=0)
        worker.consumer.flow_active = False
        await worker.ingest.drain()
        return first, later

    first, later = asyncio.run(run())
    assert later not in worker.acked, "acked past a held chunk on the same partitions"
    assert first not in worker.acked
    assert not {first, later} & worker.consumer._unacked_messages, "both let go"


class GatedSink(Sink):
    """Its first send waits for ``gate``: a batch in the middle of handing its
    outputs to the producer."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = False

    async def send(self, records: Any) -> None:
        if not self.gate.is_set():
            self.waiting = True
            await self.gate.wait()
        await super().send(records)


def test_a_shutdown_in_the_middle_of_a_batch_sends_its_outputs_before_the_state() -> None:
    """A worker's shutdown cancels the fetch loop, then drains: the batch it
    was applying must still send its outputs before the drain writes state
    that includes its inputs (else the next owner takes them as done)."""
    feed = batches(60, 250)
    reference, worker = Worker(), Worker(GatedSink())
    gated = worker.sink
    assert isinstance(gated, GatedSink)

    async def stopped() -> None:
        fetch_loop = asyncio.create_task(worker.feed(feed[0]))
        while not gated.waiting:
            await asyncio.sleep(0)
        fetch_loop.cancel()  # Faust stops the fetcher first
        with contextlib.suppress(asyncio.CancelledError):
            await fetch_loop
        worker.consumer.flow_active = False
        drain = asyncio.create_task(worker.ingest.drain())
        await asyncio.sleep(0)
        gated.gate.set()
        await drain

    asyncio.run(reference.feed_all(feed[:1]))
    asyncio.run(stopped())
    want, got = reference.outputs(), worker.outputs()
    assert want, "the batch must score"
    lost = want.keys() - got.keys()
    assert not lost, f"{len(lost)} of {len(want)} outputs lost"
    assert worker.table, "the drain wrote the state"
