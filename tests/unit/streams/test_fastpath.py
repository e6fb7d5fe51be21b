"""FastIngest: when state is written and inputs are acked.

The promise: an input is acked (so its offset may be committed) only after
every account it changed has been handed to the producer in a state that
includes it; a large persist is written a slice per batch, not all at once.
A real Runtime and Pipeline; the producer, the store and Faust's consumer
are stand-ins that record what they are given.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from services.simulator import Simulation
from streams import fastpath
from streams.batching import Record
from streams.config import load_rules
from streams.deadletter import DeadLetterLimit
from streams.fastpath import FastIngest
from streams.ingest import RawMessage
from streams.partitioning import partition_for
from streams.pipeline import Pipeline
from streams.runtime import Runtime

PARTITIONS = 4


class Sink:
    """Every shipment delivered at once, until ``stall``: nothing after it is."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.shipped = 0
        self._delivered: int | None = None

    def stall(self) -> None:
        self._delivered = self.shipped

    async def send(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    async def ship_all(self) -> None:
        self.shipped += 1

    def delivered(self, through: int) -> bool:
        return self._delivered is None or through <= self._delivered


class Store:
    """The table: what was written for each account, and how many times."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def __call__(self, key: bytes, partition: int, record: dict[str, Any]) -> Iterable[Record]:
        assert partition == partition_for(key.decode(), PARTITIONS)
        self.state[key.decode()] = record
        self.writes += 1
        return (("changelog", key, b"{}"),)  # as the fast path's changelog writer does


class Consumer:
    def __init__(self) -> None:
        self._unacked_messages: set[Any] = set()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def batches(accounts: int, size: int) -> list[list[RawMessage]]:
    sim = Simulation.create(accounts=accounts, days=1, seed=5, end=1_790_000_000)
    messages = [
        RawMessage(topic, partition_for(key.decode(), PARTITIONS), offset, key, value)
        for offset, (topic, key, value) in enumerate(sim.events())
    ]
    return [messages[i : i + size] for i in range(0, len(messages), size)]


def make(store: Store, acked: list[RawMessage]) -> tuple[FastIngest, Pipeline, Clock]:
    runtime = Runtime(load_rules(), PARTITIONS, {})
    pipeline = Pipeline(runtime, Sink(), store, DeadLetterLimit(max_ratio=1.0))  # type: ignore[arg-type]
    clock = Clock()

    def ack(consumer: Any, messages: list[RawMessage]) -> None:
        acked.extend(messages)

    return FastIngest(lambda: pipeline, 5.0, ack=ack, clock=clock), pipeline, clock


def applied_ids(store: Store) -> dict[str, int]:
    """How many inputs each written account state has applied (its watermark
    and id digests stand in: the record changes with every applied event)."""
    return {account: len(record["s"].get("i", "")) for account, record in store.state.items()}


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
            await ingest.on_batch(consumer, batch)
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


def test_a_persist_is_written_a_slice_per_batch_and_acks_when_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fastpath, "MIN_SLICE_SECONDS", 0.0)
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    feed = batches(600, 100)
    writes_per_batch: list[int] = []
    acked_after: list[int] = []

    async def run() -> None:
        for batch in feed[:40]:
            await ingest.on_batch(consumer, batch)  # all within one interval
        clock.now += 5.0  # the next batch takes the dirty accounts
        acked_before = len(acked)  # the first batch took a persist of its own
        assert acked_before == len(feed[0])
        for batch in feed[40:60]:
            before = store.writes
            await ingest.on_batch(consumer, batch)
            writes_per_batch.append(store.writes - before)
            acked_after.append(len(acked) - acked_before)

    asyncio.run(run())
    taken, first = writes_per_batch[:2]  # the batch that takes them writes none
    assert taken == 0
    total_dirty = len({m.key for b in feed[:41] for m in b})
    assert 0 < first < total_dirty, "the whole persist was written in one batch"
    assert sum(writes_per_batch) >= total_dirty
    done = next(i for i, n in enumerate(acked_after) if n)
    assert done > 0 and not pipeline.persisting
    assert acked_after[done] == sum(len(b) for b in feed[1:41]), "acked what the persist covers"


def test_a_late_persist_runs_on_and_one_an_interval_late_is_finished_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fastpath, "MIN_SLICE_SECONDS", 0.0)
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    feed = batches(600, 100)

    async def run() -> None:
        for batch in feed[:40]:
            await ingest.on_batch(consumer, batch)  # the first batch's persist is done
        assert len(acked) == len(feed[0]) and not pipeline.persisting
        pipeline.sink.stall()  # type: ignore[attr-defined]  # nothing delivered from now
        clock.now += 5.0
        await ingest.on_batch(consumer, feed[40])  # takes the dirty accounts
        writes = store.writes
        clock.now += 5.0
        await ingest.on_batch(consumer, feed[41])  # due again, but this one is not done
        first_slice = store.writes - writes
        await ingest.on_batch(consumer, feed[42])
        assert pipeline.persisting and len(acked) == len(feed[0])  # only the first batch's
        assert first_slice >= 64
        assert store.writes - writes == first_slice, "a slice waits for the last one's delivery"
        clock.now += 5.0
        await ingest.on_batch(consumer, feed[43])  # an interval late: all written now

    asyncio.run(run())
    # Finished at once means everything dirty was written, so all is acked.
    assert len(acked) == sum(len(b) for b in feed[:44])
    assert not pipeline.persisting


def test_the_timer_writes_and_acks_everything_when_no_batch_comes() -> None:
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked)
    consumer = Consumer()
    feed = batches(100, 200)

    async def run() -> None:
        for batch in feed[:5]:
            await ingest.on_batch(consumer, batch)
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
