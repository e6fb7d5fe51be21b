"""FastIngest: when state is written and inputs are acked.

The promise: an input is acked (so its offset may be committed) only after
every account it changed has been handed to the producer in a state that
includes it; a large persist is written a slice per batch, not all at once.
A real Runtime and Pipeline; the producer, the store and Faust's consumer
are stand-ins that record what they are given (``fastpath_support``).
Deferred midnight wakes are in ``test_fastpath_wakes``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest

from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.speedups import fastpath
from tests.unit.streams.fastpath_support import (
    PARTITIONS,
    Consumer,
    Rig,
    Store,
    batches,
    fetched_of,
    make,
    rigged,
    spy_budgets,
)


def test_an_input_is_acked_only_once_its_account_is_written_with_it() -> None:
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    fed: list[RawMessage] = []
    # Every ack must find each acked input's account stored as it was at
    # least when that input was applied; a snapshot of the record is kept
    # per input as the batches go, and compared when its ack arrives.
    seen_at: dict[RawMessage, dict[str, Any] | None] = {}
    checked = 0

    async def run() -> None:
        nonlocal checked
        for batch in batches(120, 150):
            await ingest.on_batch(consumer, fetched_of(batch))
            fed.extend(batch)
            for message in batch:
                account = message.key.decode()  # type: ignore[union-attr]
                seen_at[message] = pipeline.runtime.record(message.partition, account)
            while checked < len(acked):
                message = acked[checked]
                account = message.key.decode()  # type: ignore[union-attr]
                assert account in store.state, "acked before its account was written"
                wanted = seen_at[message]
                assert wanted is not None
                stored = store.state[account]
                assert stored["s"]["w"] >= wanted["s"]["w"], (
                    "stored state older than an acked input"
                )
                checked += 1
            clock.now += 1.0

    asyncio.run(run())
    assert checked > 0
    assert len(acked) < len(fed)  # the last interval's inputs wait for their persist
    acked_set = set(acked)
    assert len(acked_set) == len(acked)  # nothing acked twice


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Rig:
    """An ingest whose slices have no minimum length, after one interval of
    40 batches (the first batch's own persist long done)."""
    monkeypatch.setattr(fastpath, "MIN_SLICE_SECONDS", 0.0)
    rig = rigged(600, 100)

    async def first_interval() -> None:
        for n in range(40):
            await rig.batch(n)

    asyncio.run(first_interval())
    assert len(rig.acked) == len(rig.feed[0]) and not rig.pipeline.persisting
    # A slice's budget is the time its batch took: on a loaded machine one
    # batch can take long enough to write everything. From here every
    # budgeted slice is one step of accounts, whatever the machine's load.
    real_slice = rig.pipeline.persist_slice

    async def one_step(budget_s: float | None) -> int:
        return await real_slice(None if budget_s is None else 0.0)

    monkeypatch.setattr(rig.pipeline, "persist_slice", one_step)
    return rig


def test_a_persist_is_written_a_slice_per_batch_and_acks_when_done(rig: Rig) -> None:
    writes_per_batch: list[int] = []
    acked_after: list[int] = []
    acked_before = len(rig.acked)

    async def run() -> None:
        rig.clock.now += 5.0  # the next batch takes the dirty accounts
        for n in range(40, 60):
            before = rig.store.writes
            await rig.batch(n)
            writes_per_batch.append(rig.store.writes - before)
            acked_after.append(len(rig.acked) - acked_before)

    asyncio.run(run())
    taken, first = writes_per_batch[:2]  # the batch that takes them writes none
    assert taken == 0
    total_dirty = len({m.key for b in rig.feed[1:41] for m in b})
    assert 0 < first < total_dirty, "the whole persist was written in one batch"
    assert sum(writes_per_batch) >= total_dirty
    done = next(i for i, n in enumerate(acked_after) if n)
    assert done > 0 and not rig.pipeline.persisting
    covered = sum(len(b) for b in rig.feed[1:41])
    assert acked_after[done] == covered, "acked what the persist covers"


def test_a_late_persist_runs_on_and_one_an_interval_late_is_finished_at_once(rig: Rig) -> None:
    async def run() -> None:
        rig.pipeline.sink.stall()  # type: ignore[attr-defined]  # nothing delivered from now
        rig.clock.now += 5.0
        await rig.batch(40)  # takes the dirty accounts
        writes = rig.store.writes
        rig.clock.now += 5.0
        await rig.batch(41)  # due again, but this one is not done
        first_slice = rig.store.writes - writes
        await rig.batch(42)
        assert rig.pipeline.persisting and len(rig.acked) == len(rig.feed[0])
        assert first_slice >= 64
        assert rig.store.writes - writes == first_slice, "a slice waits for the last one's delivery"
        rig.clock.now += 5.0
        await rig.batch(43)  # an interval late: all written now

    asyncio.run(run())
    # Finished at once means everything dirty was written, so all is acked.
    assert len(rig.acked) == sum(len(b) for b in rig.feed[:44])
    assert not rig.pipeline.persisting


def test_the_timer_writes_and_acks_everything_when_no_batch_comes() -> None:
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    feed = batches(100, 200)

    async def run() -> None:
        for batch in feed[:5]:
            await ingest.on_batch(consumer, fetched_of(batch))
        await ingest.flush()  # a batch just came: the timer leaves the writing to batches
        assert len(acked) < sum(len(b) for b in feed[:5])
        clock.now += 2.5
        await ingest.flush()

    asyncio.run(run())
    assert len(acked) == sum(len(b) for b in feed[:5])
    assert not pipeline.persisting
    assert set(store.state) == {m.key.decode() for b in feed[:5] for m in b}  # type: ignore[union-attr]


def test_a_revoked_partitions_pending_accounts_are_left_to_the_new_owner() -> None:
    store, acked = Store(), []
    _, pipeline, _ = make(store, acked)
    feed = batches(200, 500)

    async def run() -> None:
        await pipeline.handle(feed[0], persist=False)
        pipeline.begin_persist()
        pipeline.runtime.forget({0})
        await pipeline.persist_slice(None)

    asyncio.run(run())
    by_partition: defaultdict[int, int] = defaultdict(int)
    for account in store.state:
        by_partition[partition_for(account, PARTITIONS)] += 1
    assert 0 not in by_partition and len(by_partition) == PARTITIONS - 1


def test_a_zero_budget_slice_writes_one_step() -> None:
    store, acked = Store(), []
    _, pipeline, _ = make(store, acked)
    feed = batches(400, 2000)

    async def run() -> int:
        await pipeline.handle(feed[0], persist=False)
        pipeline.begin_persist()
        return await pipeline.persist_slice(0.0)

    asyncio.run(run())
    assert store.writes == 64
    assert pipeline.persisting


def test_an_idle_write_gives_way_to_a_batch_and_the_batches_finish_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fastpath, "IDLE_SLICE_SECONDS", 0.0)  # one step of 64 per slice
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    feed = batches(600, 300)
    fed = 0

    async def run() -> None:
        nonlocal fed
        for batch in feed[:10]:
            await ingest.on_batch(consumer, fetched_of(batch))
        fed = sum(len(b) for b in feed[:10])
        clock.now += 2.0  # idle
        flush = asyncio.create_task(ingest.flush())
        for _ in range(3):
            await asyncio.sleep(0)  # let it write a slice or two
        assert pipeline.persisting, "the idle write is not sliced"
        assert len(acked) == len(feed[0])  # only the first batch's own persist
        idle_slices = spy_budgets(
            monkeypatch, pipeline, "persist_slice", fastpath.IDLE_SLICE_SECONDS
        )
        await ingest.on_batch(consumer, fetched_of(feed[10]))  # the feed is back
        await flush
        assert idle_slices and not any(idle_slices), "the idle write went on after a batch"
        for batch in feed[11:40]:
            await ingest.on_batch(consumer, fetched_of(batch))

    asyncio.run(run())
    assert not pipeline.persisting
    assert len(acked) >= fed  # everything the idle write took is acked
    assert set(store.state) >= {m.key.decode() for b in feed[:10] for m in b}  # type: ignore[union-attr]


def test_batches_waiting_on_a_persist_finished_by_a_revocation_are_still_acked(rig: Rig) -> None:
    """``drop_revoked`` writes everything with ``Pipeline.persist`` outside the
    ingest; the batches that persist covered must not be forgotten."""
    waiting = sum(len(b) for b in rig.feed[1:41])

    async def run() -> None:
        rig.pipeline.sink.stall()  # type: ignore[attr-defined]  # slices cannot finish it
        rig.clock.now += 5.0
        await rig.batch(40)  # takes the dirty accounts: batches 1-40 wait on it
        await rig.batch(41)
        assert rig.pipeline.persisting and len(rig.acked) == len(rig.feed[0])
        async with rig.ingest.lock:
            await rig.pipeline.persist()  # what drop_revoked does
        await rig.batch(42)

    asyncio.run(run())
    assert len(rig.acked) == len(rig.feed[0]) + waiting


def test_a_drain_writes_and_acks_every_batch_at_once(rig: Rig) -> None:
    """What runs before Faust waits for acks (a rebalance, a shutdown): with
    slices unable to finish (delivery stalled) and no timer, every batch is
    still acked, each account written as it is now."""

    async def run() -> None:
        rig.pipeline.sink.stall()  # type: ignore[attr-defined]
        rig.clock.now += 5.0
        for n in range(40, 45):  # the first takes the dirty accounts, the rest wait
            await rig.batch(n)
        assert len(rig.acked) == len(rig.feed[0])
        await rig.ingest.drain()

    asyncio.run(run())
    assert len(rig.acked) == sum(len(b) for b in rig.feed[:45])
    assert not rig.pipeline.persisting
    for batch in rig.feed[:45]:
        for message in batch:
            account = message.key.decode()  # type: ignore[union-attr]
            now = rig.pipeline.runtime.record(message.partition, account)
            assert {k: v for k, v in rig.store.state[account].items() if k != "o"} == now


def test_a_drain_with_nothing_unacked_builds_nothing() -> None:
    built: list[int] = []

    def pipeline() -> Any:
        built.append(1)
        raise AssertionError("no pipeline needed")

    asyncio.run(fastpath.FastIngest(pipeline, persist_every=5.0).drain())
    assert not built
