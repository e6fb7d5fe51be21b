"""A stand-in for what ``faust_patches._drain_messages`` reads of a Faust
consumer, fed fixed fetches of real aiokafka records, and one run of the drain
loop: shared by the batched drain's tests and its rebalance tests."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP

from streams.speedups import faust_patches
from streams.speedups.fetched import Fetched

IN = "cs.usage.v1"
OTHER = "other"
GENERATION = 7


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic, partition, offset, 1_700_000_000_000 + offset, 0,
        f"k{offset}".encode(), f"v{offset}".encode(), None, 2, 2, (),
    )  # fmt: skip


class Stopped:
    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


class DrainConsumer:
    """What ``_drain_messages`` reads of a Faust consumer, fed fixed fetches."""

    consumer_stopped_errors = (ConnectionError,)

    def __init__(self, fetches: list[dict[TP, list[Any]]], active: set[TP] | None = None) -> None:
        self.fetches = fetches
        self.active = active
        self.flow_active = True
        self.should_stop = False
        self._stopped = Stopped()
        self.suspend_flow = SimpleNamespace(is_set=lambda: False)
        self._read_offset: dict[TP, int | None] = {}
        self._buffered_partitions: set[TP] = set()
        self._commit_every = None
        self._n_acked = 0
        self.gaps: list[tuple[TP, int, int]] = []
        self.called: list[tuple[str, int]] = []
        self.diverted: list[list[tuple[str, int, int]]] = []
        self.end_offsets: list[tuple[TP, int]] = []
        self.seeks = 0
        self.diag = SimpleNamespace(set_flag=lambda flag: None, unset_flag=lambda flag: None)
        monitor = SimpleNamespace(
            track_tp_end_offset=lambda tp, o: self.end_offsets.append((tp, o))
        )
        self.app = SimpleNamespace(
            topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
            consumer_generation_id=GENERATION,
            monitor=monitor,
            rebalancing=False,
        )
        self.log = SimpleNamespace(info=print, exception=print, dev=print, warning=print)
        self.transport = SimpleNamespace(app=SimpleNamespace(should_stop=True))

    def _next_fetch(self) -> dict[TP, list[Any]] | None:
        if not self.fetches:
            self._stopped.value = True
            return None
        for tp in self.fetches[0]:
            self._read_offset.setdefault(tp, None)
        return self.fetches.pop(0)

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        return self._next_fetch(), self.active

    async def getmany(self, timeout: float) -> Any:
        """Faust's per-message order for one partition per topic (what the tests feed)."""
        records = self._next_fetch() or {}
        for tp, batch in records.items():
            if self.active is None or tp in self.active:
                for record in batch:
                    yield tp, faust_message(tp, record)

    def highwater(self, tp: TP) -> int:
        return 1000 + tp.partition

    async def perform_seek(self) -> None:
        self.seeks += 1

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    async def callback(self, message: Any) -> None:
        self.called.append((message.topic, message.offset))

    async def _add_gap(self, tp: TP, start: int, end: int) -> None:
        self.gaps.append((tp, start, end))


def faust_message(tp: TP, record: Any) -> Any:
    thread = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=GENERATION))
    return AIOKafkaConsumer._to_message(thread, tp, record)  # type: ignore[arg-type]


async def drain(
    consumer: DrainConsumer,
    *,
    divert: bool,
    divert_max: int = 5000,
    handler: faust_patches.DivertHandler | None = None,
) -> None:
    """One run of the drain loop; the diverted messages go to ``handler``, by
    default one that records them and checks them against Faust's own."""

    async def check(owner: Any, batch: Fetched) -> None:
        assert owner is consumer
        consumer.diverted.append([(r.topic, r.partition, r.offset) for r in batch.records])
        # aiokafka's records as fetched, and the offsets an ack of them covers
        assert all(type(r) is ConsumerRecord for r in batch.records)
        assert [(tp, o) for tp, offsets in batch.spans for o in offsets] == [
            (TP(r.topic, r.partition), r.offset) for r in batch.records
        ]

    if divert:
        faust_patches.install(frozenset({IN}), handler or check, divert_max)
    else:
        faust_patches.install()
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=Stopped()))
    finally:
        faust_patches.uninstall()


def fetches_of(offsets: list[list[int]], partition: int = 0) -> list[dict[TP, list[Any]]]:
    tp = TP(IN, partition)
    return [{tp: [record(IN, partition, o) for o in batch]} for batch in offsets]
