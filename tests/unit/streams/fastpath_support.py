"""Stand-ins for FastIngest's tests: a real Runtime and Pipeline, with the
producer, the store, Faust's consumer and the clock replaced by objects that
record what they are given (``make`` wires them), and a simulated feed."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from faust.types import TP

from schemas import topics
from services.simulator import Simulation
from streams.processing.clock import is_clock_key
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups.batching import Record
from streams.speedups.fastpath import FastIngest
from streams.speedups.fetched import Fetched

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

    async def wait_delivered(self, through: int) -> None:
        """Waiting for a stalled delivery sees it through (the real sink's
        futures complete or fail); later shipments stay stalled."""
        if self._delivered is not None:
            self._delivered = max(self._delivered, through)


class Store:
    """The table: what was written for each account, and how many times
    (partition clocks apart: ``streams.processing.clock``)."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, Any]] = {}
        self.clocks: dict[int, dict[str, Any]] = {}
        self.writes = 0

    def __call__(self, key: bytes, partition: int, record: dict[str, Any]) -> Iterable[Record]:
        assert partition == partition_for(key, PARTITIONS)
        if is_clock_key(key):
            self.clocks[partition] = record
        else:
            self.state[key.decode()] = record
            self.writes += 1
        return (("changelog", key, b"{}"),)  # as the fast path's changelog writer does


class Consumer:
    def __init__(self) -> None:
        self._unacked_messages: set[Any] = set()
        #: Faust's: off from the start of a rebalance until the seek after it.
        self.flow_active = True
        #: ``rebalancing``: on from the start of a rebalance until that seek is done.
        self.app = SimpleNamespace(rebalancing=False, consumer_generation_id=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


END = 1_790_000_000


def batches(accounts: int, size: int, *, past_midnight: int = 0) -> list[list[RawMessage]]:
    """A day of simulated inputs in batches of ``size``; then, if asked, one
    batch of ``past_midnight`` live events an hour after the next midnight."""
    sim = Simulation.create(accounts=accounts, days=1, seed=5, end=END)
    events = list(sim.events())
    if past_midnight:
        events += _past_midnight(sim, END // 86_400 * 86_400 + 86_400 + 3600, past_midnight)
    messages = [
        RawMessage(topic, partition_for(key.decode(), PARTITIONS), offset, key, value)
        for offset, (topic, key, value) in enumerate(events)
    ]
    cut = len(messages) - past_midnight
    out = [messages[i : min(i + size, cut)] for i in range(0, cut, size)]
    return [*out, messages[cut:]] if past_midnight else out


def fetched_of(messages: list[RawMessage]) -> Fetched:
    """The messages as the patched drain hands them over: a partition's run at a time."""
    batch = Fetched()
    for (topic, partition), run in itertools.groupby(messages, lambda m: (m.topic, m.partition)):
        batch.add(TP(topic, partition), list(run))
    return batch


def make(
    store: Store, acked: list[RawMessage], *, spread_wakes: bool = False
) -> tuple[FastIngest, Pipeline, Clock]:
    runtime = Runtime(load_rules(), PARTITIONS, {})
    pipeline = Pipeline(
        runtime,
        Sink(),
        store,
        DeadLetterLimit(max_ratio=1.0),
        spread_wakes=spread_wakes,  # type: ignore[arg-type]
    )
    clock = Clock()

    def ack(consumer: Any, batch: Fetched) -> None:
        acked.extend(batch.records)

    return FastIngest(lambda: pipeline, 5.0, ack=ack, clock=clock), pipeline, clock


@dataclass
class Rig:
    """A FastIngest with its stand-ins and the simulated feed it is given."""

    store: Store
    acked: list[RawMessage]
    ingest: FastIngest
    pipeline: Pipeline
    clock: Clock
    consumer: Consumer
    feed: list[list[RawMessage]]

    async def batch(self, n: int) -> None:
        await self.ingest.on_batch(self.consumer, fetched_of(self.feed[n]))

    async def all_but_the_last(self) -> None:
        for batch in self.feed[:-1]:
            await self.ingest.on_batch(self.consumer, fetched_of(batch))


def rigged(accounts: int, size: int, *, past_midnight: int = 0, spread_wakes: bool = False) -> Rig:
    store: Store = Store()
    acked: list[RawMessage] = []
    ingest, pipeline, clock = make(store, acked, spread_wakes=spread_wakes)
    feed = batches(accounts, size, past_midnight=past_midnight)
    return Rig(store, acked, ingest, pipeline, clock, Consumer(), feed)


def spy_budgets(
    monkeypatch: pytest.MonkeyPatch, target: object, method: str, budget: float
) -> list[bool]:
    """Wrap ``target.method`` (async, taking a budget in seconds): the list
    says, call by call, whether the budget given was ``budget``."""
    calls: list[bool] = []
    real: Callable[[float | None], Awaitable[int]] = getattr(target, method)

    async def spy(budget_s: float | None) -> int:
        calls.append(budget_s == budget)
        return await real(budget_s)

    monkeypatch.setattr(target, method, spy)
    return calls


def _past_midnight(sim: Simulation, at: int, count: int) -> list[tuple[str, bytes, bytes]]:
    """``count`` NPS answers of 0 at ``at``: inputs that surely move their
    account's score, so each one has an output of its own to look for."""
    time = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for n, account in enumerate(sim.accounts[:count]):
        value = {"id": f"late-{n}", "account_id": account.account_id, "type": "nps_response",
                 "time": time, "score": 0}  # fmt: skip
        out.append((topics.FEEDBACK, account.account_id.encode(), orjson.dumps(value)))
    return out
