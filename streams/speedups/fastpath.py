"""The fast way in: fetched batches straight from Faust's consumer loop.

State is written once per dirty account per persist interval (Kafka Streams'
record cache does the same), not once per batch: a busy account changes many
times between two commits, and every changelog record costs a serialisation
and a produce. Messages are acked only after the state they changed has been
handed to the producer, and Faust flushes the producer before it commits
acked offsets - so a committed offset never runs ahead of its state.
Outputs are not delayed: each batch's outputs go out with the batch.

A persist is spread over the batches that follow it. Writing every dirty
account at once stalled the loop: 20,000 accounts at ~100 us each is two
seconds during which no event is scored, which is what p99 latency measured.
So each interval *takes* the dirty accounts (``Pipeline.begin_persist``) and
every later batch writes a slice of them, for as long as the batch itself
took (half the loop at most); the batches acked by a persist are the ones
processed before it was taken, acked once its last account is written. A
slice waits for the previous one's delivery (``Pipeline.persist_slice``). A
persist still unfinished when the next is due runs on, and the next is taken
when it is done; one a whole interval late is finished at once, so offsets are
committed at most three intervals after their batch.

A lock keeps a batch (process + ship outputs) and a persist slice from
interleaving: a slice in the middle of a batch could save state whose outputs
were not yet produced, and a crash then would drop them as duplicates on replay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from faust.types import TP

from streams.observability import metrics
from streams.processing.align import Ticket
from streams.processing.pipeline import Pipeline
from streams.speedups import fetched
from streams.speedups.backlog import broker_behind
from streams.speedups.fetched import Fetched

log = logging.getLogger(__name__)

#: The least time a batch gives to pending writes, so a persist taken during
#: a trickle of tiny batches still finishes within its interval.
MIN_SLICE_SECONDS = 0.005

#: A persist written at once that took this long is logged as a warning.
STALL_WARN_SECONDS = 0.25

#: How long the idle timer writes (or fires deferred wakes) before letting a batch in.
IDLE_SLICE_SECONDS = 0.05

#: No batch for this long (or half the interval, if shorter) counts as idle:
#: the timer then writes everything (in slices) and acks it.
IDLE_SECONDS = 1.0

Acker = Callable[[Any, Fetched], object]

#: A handled batch: its consumer, its offsets, and how many of its inputs
#: alignment still holds (``streams.processing.align``).
Handled = tuple[Any, Fetched, Ticket]


class FastIngest:
    def __init__(
        self,
        pipeline: Callable[[], Pipeline],
        persist_every: float,
        *,
        ack: Acker = fetched.ack,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pipeline = pipeline
        self._persist_every = persist_every
        self._ack = ack
        self._clock = clock
        #: Held by anything that changes or persists state: batches, persists, ticks.
        self.lock = asyncio.Lock()
        #: Fetched batches processed since the last persist was taken, with their
        #: consumer; and those whose inputs alignment still holds.
        self._unacked: list[Handled] = []
        #: Batches the persist being written will ack when its last account is out.
        self._writing: list[Handled] = []
        #: The first batch takes a persist at once, so a new worker commits soon.
        self._next_persist = 0.0
        self._last_batch = 0.0
        self._batches = 0

    async def on_batch(self, consumer: Any, batch: Fetched) -> None:
        """The ``streams.speedups.faust_patches`` divert handler: the batch is
        applied under the lock, unless a rebalance began since it was fetched
        (``fetched.current``), and once begun it is finished even if the
        fetch loop is cancelled (``_locked``)."""
        fetched.track(consumer, batch)  # a rebalance waits for it
        await self._locked(lambda: self._handle(consumer, batch))

    async def _handle(self, consumer: Any, batch: Fetched) -> None:
        if not fetched.current(consumer, batch):
            # A rebalance began since it was fetched: read again after the seek.
            fetched.untrack(consumer, batch)
            log.info("batch fetched before a rebalance let go", extra={"records": len(batch)})
            return
        started = time.perf_counter()
        ticket = Ticket()
        with metrics.BATCH_SECONDS.time():
            await self._pipeline().handle(
                batch.records,
                persist=False,
                ms_timestamps=True,
                behind=broker_behind(consumer, batch),
                ticket=ticket,
            )
        self._unacked.append((consumer, batch, ticket))
        self._last_batch = self._clock()
        self._batches += 1
        await self._persist_step(max(MIN_SLICE_SECONDS, time.perf_counter() - started))

    async def on_fetched(self, consumer: Any) -> None:
        """The ``streams.speedups.faust_patches`` hook after each fetch is
        handed over (records or none): held inputs a partition that has since
        caught up no longer bounds are applied, though no batch came to do it
        (a fetch response with no records for it). Asked here, between
        fetches, because only here are no fetched records still to be handed
        over: a timer could run while the consumer thread has moved its
        positions past records this loop has not seen yet."""
        pipeline = self._pipeline()
        if pipeline.holding:
            await self._locked(lambda: pipeline.release(broker_behind(consumer, Fetched())))

    async def _locked(self, work: Callable[[], Awaitable[None]]) -> None:
        """``work()`` under the lock, run to its end once the lock is taken,
        even if the caller is cancelled meanwhile (``unstoppable``); the lock
        is let go when it ends. Taken here, not in the task that does the work,
        so a batch keeps its place in the lock's queue."""
        await self.lock.acquire()

        async def run() -> None:
            try:
                await work()
            finally:
                self.lock.release()

        await unstoppable(run())

    @property
    def timer_seconds(self) -> float:
        """How often ``flush`` should run: often enough to notice idleness soon."""
        return min(IDLE_SECONDS, self._persist_every / 2)

    async def flush(self) -> None:
        """The persist timer (``_flush``), run to its end if cancelled (``unstoppable``)."""
        await unstoppable(self._flush())

    async def _flush(self) -> None:
        """The persist timer. When no batch arrived for ``timer_seconds``, it
        takes everything dirty and writes it, then acks every batch (an idle
        feed still commits, and a rebalance, which stops the batches, is not
        kept waiting for acks). It writes in slices and lets the lock go in
        between: a feed that was only paused must not find ~30k accounts
        (two seconds) being written in one go when it resumes. Once a batch
        comes, the batches carry on with the slices. When batches are flowing,
        the timer only keeps a slice going. Wakes a batch deferred
        (``Pipeline.catch_up``) are fired the same way, before the take."""
        async with self.lock:
            pipeline = self._pipeline()
            if self._clock() - self._last_batch < self.timer_seconds:
                await self._persist_step(MIN_SLICE_SECONDS)
                return
            batches = self._batches
        # Deferred wakes first (a midnight), so the persist taken next has them.
        while pipeline.overdue:
            async with self.lock:
                if self._batches != batches:
                    return  # the feed is back: its batches fire the rest
                await pipeline.catch_up(IDLE_SLICE_SECONDS)
            await asyncio.sleep(0)
        async with self.lock:
            if self._batches != batches:
                return
            self._take()
        while pipeline.persisting:
            async with self.lock:
                if self._batches != batches:
                    return  # the feed is back: its batches write the rest
                written = await pipeline.persist_slice(IDLE_SLICE_SECONDS)
                self._ack_if_written()
                if not pipeline.persisting:
                    return
            # Nothing written: the last slice is still being delivered.
            await asyncio.sleep(0 if written else 0.005)

    async def drain(self) -> None:
        """Write everything and ack every batch, at once: Faust is about to
        wait for the acks (a rebalance or a shutdown; ``streams.worker.app.App``),
        and no batch comes before it has them."""
        async with self.lock:
            if not (self._unacked or self._writing):
                return
            self._take()
            await self._persist_all("drain")
            self._ack_if_written()
            self._drop_held()

    def _drop_held(self) -> None:
        """Batches whose inputs alignment still holds (and those behind them,
        ``_take``) are let go unacked: whoever owns their partitions after
        the rebalance reads them again from the committed offsets, which they
        kept below them, or from the start where none is committed
        (``streams.speedups.faust_patches._perform_seek``).
        Every partition such a batch read is forgotten, not only those with
        inputs held: the batch's other partitions were applied but not
        committed either, and are read again too. Their state comes back from
        the table with the re-read windows of ``streams.processing.reread``,
        which tell applied inputs by offset, as for a new owner (the input-id
        check alone remembers too few)."""
        pipeline = self._pipeline()
        reread: set[int] = set()
        for consumer, batch, ticket in self._unacked:
            fetched.untrack(consumer, batch)
            reread.update(partition for _, partition in ticket.read)
        self._unacked.clear()
        pipeline.runtime.forget(reread | pipeline.drop_held())

    async def _persist_step(self, budget_s: float) -> None:
        pipeline = self._pipeline()
        if pipeline.persisting:
            await pipeline.persist_slice(budget_s)
        self._ack_if_written()
        now = self._clock()
        if now < self._next_persist:
            return
        if pipeline.persisting:
            if now < self._next_persist + self._persist_every:
                return  # late: keep slicing, take the next when this one is done
            # An interval late: finish it at once, so commits are never more
            # than three intervals behind however busy the producer is.
            await self._persist_all("late")
        self._take()

    def _take(self) -> None:
        """Take every dirty account for writing; the batches processed so far
        are acked once it is all written (at once, if nothing was dirty),
        but for those with inputs alignment still holds, and those that read
        an input partition after one of them: they wait for a later take.
        Faust commits a partition's acked offsets from their first unbroken
        run without checking that it starts at the committed offset when it
        knows none (a new group, or any partition just after a revocation,
        when it has dropped what it knew; and a gap of one offset passes
        anyway), so a later batch acked while an earlier one on the same
        partition was held committed past the held inputs: after a rebalance
        or a restart nobody read them again."""
        self._pipeline().begin_persist()
        held: list[Handled] = []
        behind: set[TP] = set()  # input partitions a batch still held read
        for handled in self._unacked:
            batch = handled[1]
            if handled[2].held or (behind and not behind.isdisjoint(_partitions(batch))):
                held.append(handled)
                behind.update(_partitions(batch))
            else:
                self._writing.append(handled)
        self._unacked = held
        self._next_persist = self._clock() + self._persist_every
        self._ack_if_written()

    def _ack_if_written(self) -> None:
        """Ack the batches waiting on a persist once nothing is left to write:
        whoever wrote the last account (a slice, a full write, a revocation's
        ``Pipeline.persist``), the batches waiting on it are acked here."""
        if not self._pipeline().persisting:
            self._ack_all(self._writing)

    async def _persist_all(self, reason: str) -> None:
        """Everything pending and dirty, now. Logged, since while it runs no
        event is scored: a warning when that was long enough to show in latency."""
        started = time.perf_counter()
        written = await self._pipeline().persist()
        seconds = time.perf_counter() - started
        if written:
            log.log(
                logging.WARNING if seconds >= STALL_WARN_SECONDS else logging.INFO,
                "state persisted at once",
                extra={"reason": reason, "records": written, "seconds": round(seconds, 3)},
            )

    def _ack_all(self, batches: list[Handled]) -> None:
        for consumer, batch, _ in batches:
            self._ack(consumer, batch)
        batches.clear()


async def unstoppable(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end even if the caller is cancelled. A worker's
    shutdown cancels the consumer's fetch loop and its timers and then drains
    (``FastIngest.drain``): cancelled in the middle of a batch or a persist
    slice, the work had changed engines (inputs applied, accounts taken for
    writing) but not yet handed their outputs or records to the producer, and
    the drain then wrote state that includes inputs whose outputs never went
    out. Shielded, the work finishes first (the drain waits for the lock it
    holds) and the caller's cancellation still goes on."""
    await asyncio.shield(work)


def _partitions(batch: Fetched) -> Iterable[TP]:
    return (tp for tp, _ in batch.spans)
