"""The batched drain (``faust_patches._Drain.batched``, used when topics are
diverted to the fast path) against Faust's own per-message semantics: the same
messages, built the same way, each delivered once in offset order, the same
read offsets and offset gaps, other topics still one by one. Stand-in
consumer, real aiokafka records and Faust message types: no broker."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP
from intervaltree import IntervalTree

from streams.speedups import faust_patches
from streams.speedups.fetched import Fetched

IN = "cs.usage.v1"
OTHER = "other"
GENERATION = 7


def _record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic, partition, offset, 1_700_000_000_000 + offset, 0,
        f"k{offset}".encode(), f"v{offset}".encode(), None, 2, 2, (),
    )  # fmt: skip


class _Stopped:
    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


class _Consumer:
    """What ``_drain_messages`` reads of a Faust consumer, fed fixed fetches."""

    consumer_stopped_errors = (ConnectionError,)

    def __init__(self, fetches: list[dict[TP, list[Any]]], active: set[TP] | None = None) -> None:
        self.fetches = fetches
        self.active = active
        self.flow_active = True
        self.should_stop = False
        self._stopped = _Stopped()
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
                    yield tp, _faust_message(tp, record)

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


def _faust_message(tp: TP, record: Any) -> Any:
    thread = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=GENERATION))
    return AIOKafkaConsumer._to_message(thread, tp, record)  # type: ignore[arg-type]


def _state(message: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(message).items() if k != "time_in"}


async def _drain(
    consumer: _Consumer,
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
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=_Stopped()))
    finally:
        faust_patches.uninstall()


def _fetches(offsets: list[list[int]], partition: int = 0) -> list[dict[TP, list[Any]]]:
    tp = TP(IN, partition)
    return [{tp: [_record(IN, partition, o) for o in batch]} for batch in offsets]


#: Re-fetched offsets, a gap inside a fetch (5 -> 9) and one across fetches (10 -> 12).
OFFSETS = [[0, 1, 2], [1, 2, 3, 4, 5, 9, 10], [12, 13]]


async def test_same_messages_offsets_and_gaps_as_the_per_message_loop() -> None:
    per_message, batched = _Consumer(_fetches(OFFSETS)), _Consumer(_fetches(OFFSETS))
    await _drain(per_message, divert=False)
    await _drain(batched, divert=True)
    tp = TP(IN, 0)
    delivered = [(topic, offset) for chunk in batched.diverted for topic, _, offset in chunk]
    # Faust skips offsets *below* the last one read: 1 is dropped, 2 comes again.
    assert (
        delivered == per_message.called == [(IN, o) for o in (0, 1, 2, 2, 3, 4, 5, 9, 10, 12, 13)]
    )
    # Faust's gap ends at the message after it; the batched drain's, before it.
    assert per_message.gaps == [(tp, 6, 9), (tp, 11, 12)]
    assert batched.gaps == [(tp, 6, 8), (tp, 11, 11)]
    assert batched._read_offset == per_message._read_offset == {tp: 13}
    assert [len(chunk) for chunk in batched.diverted] == [3, 6, 2]  # one hand-off per fetch


async def test_one_commit_covers_the_offsets_skipped_between_acked_ones() -> None:
    """Offsets a fetch skips (an undecodable batch handed over as its last
    offset, ``streams.speedups.undecodable``) are gaps: with the offsets
    around them acked, Faust's commit (its own ``_add_gap`` and
    ``_new_offset``) moves past all of them at once. A gap that also holds
    the acked offset after it counts that offset twice, and each commit then
    moves past one gap only: a stopping worker's last commit leaves the rest
    to be read, and dead-lettered, again."""
    delivered = [0, 1, 2, 3, 4, 7, 10, 13, 14, 15]
    consumer = _Consumer(_fetches([delivered]))
    await _drain(consumer, divert=True)
    tp = TP(IN, 0)
    faust = SimpleNamespace(
        _committed_offset={tp: None}, _gap={tp: IntervalTree()}, _acked={tp: []},
        _acked_index={tp: set()},
    )  # fmt: skip
    for _, start, end in consumer.gaps:
        await FaustConsumer._add_gap(faust, tp, start, end)  # type: ignore[arg-type]
    faust._acked[tp].extend(delivered)
    assert FaustConsumer._new_offset(faust, tp) == 16  # type: ignore[arg-type]


async def test_chunks_never_exceed_divert_max() -> None:
    consumer = _Consumer(_fetches([list(range(12))]))
    await _drain(consumer, divert=True, divert_max=5)
    assert [len(chunk) for chunk in consumer.diverted] == [5, 5, 2]
    assert [o for chunk in consumer.diverted for _, _, o in chunk] == list(range(12))


async def test_other_topics_go_one_by_one_and_inactive_partitions_are_skipped() -> None:
    active, paused, other = TP(IN, 0), TP(IN, 1), TP(OTHER, 0)
    fetch = {
        active: [_record(IN, 0, o) for o in (0, 1)],
        paused: [_record(IN, 1, 0)],
        other: [_record(OTHER, 0, o) for o in (4, 5)],
    }
    consumer = _Consumer([fetch], active={active, other})
    built: list[dict[str, Any]] = []

    async def callback(message: Any) -> None:
        consumer.called.append((message.topic, message.offset))
        built.append(_state(message))

    consumer.callback = callback  # type: ignore[method-assign]
    await _drain(consumer, divert=True)
    assert consumer.diverted == [[(IN, 0, 0), (IN, 0, 1)]]
    assert consumer.called == [(OTHER, 4), (OTHER, 5)]
    # what Faust's _to_message would have built
    assert built == [_state(_faust_message(other, _record(OTHER, 0, o))) for o in (4, 5)]
    assert consumer.end_offsets == [(active, 1000), (other, 1000)]  # once per partition
    assert consumer._read_offset == {active: 1, paused: None, other: 5}


async def test_flow_stopped_seeks_back_and_delivers_nothing() -> None:
    consumer = _Consumer(_fetches([[0, 1]]))
    consumer.flow_active = False
    await _drain(consumer, divert=True)
    assert consumer.diverted == [] and consumer.called == []
    assert consumer.seeks == 1


@pytest.mark.parametrize("divert", [False, True])
async def test_commit_every_is_honoured(divert: bool) -> None:
    consumer = _Consumer(_fetches([[0, 1], [2]]))
    consumer._commit_every = 1  # type: ignore[assignment]
    consumer._n_acked = 5
    commits: list[int] = []

    async def commit() -> None:
        commits.append(consumer._n_acked)

    consumer.commit = commit  # type: ignore[attr-defined]
    await _drain(consumer, divert=divert)
    assert commits == [0]  # due once, reset; nothing was acked in between


async def test_nothing_more_is_handed_over_once_a_rebalance_begins() -> None:
    """Flow stops while the first chunk is processed: Faust's getmany would
    stop yielding there, and so does the batched drain (the rest is fetched
    again after the seek to committed offsets)."""
    second = TP(IN, 1)
    fetch = {
        TP(IN, 0): [_record(IN, 0, o) for o in range(7)],
        second: [_record(IN, 1, o) for o in range(3)],
    }
    consumer = _Consumer([fetch])

    async def handler(owner: Any, batch: Fetched) -> None:
        consumer.diverted.append([(r.topic, r.partition, r.offset) for r in batch.records])
        consumer.flow_active = False  # a rebalance starts meanwhile

    faust_patches.install(frozenset({IN}), handler, 5)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=_Stopped()))
    finally:
        faust_patches.uninstall()
    assert consumer.diverted == [[(IN, 0, o) for o in range(5)]]
    assert consumer._read_offset[second] is None  # never handed over, never marked read


async def test_a_new_generation_stops_per_message_delivery_too() -> None:
    fetch = {TP(OTHER, 0): [_record(OTHER, 0, o) for o in range(4)]}
    consumer = _Consumer([fetch])
    delivered = consumer.called

    async def callback(message: Any) -> None:
        delivered.append((message.topic, message.offset))
        consumer.app.consumer_generation_id = GENERATION + 1  # the group moved on

    consumer.callback = callback  # type: ignore[method-assign]
    await _drain(consumer, divert=True)
    assert delivered == [(OTHER, 0)]


async def test_handled_chunks_keep_what_an_ack_needs_but_not_their_records() -> None:
    # The fast path holds handled chunks until their state is written, only to
    # ack them: the drain drops their records once the handler returns.
    consumer = _Consumer(_fetches([[0, 1, 2, 3, 4, 5, 6]]))
    held: list[Fetched] = []
    payloads: list[tuple[bytes, bytes]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        payloads.extend((r.key, r.value) for r in batch.records)
        held.append(batch)

    await _drain(consumer, divert=True, divert_max=3, handler=handler)  # full chunks and a rest
    assert payloads == [(f"k{o}".encode(), f"v{o}".encode()) for o in range(7)]
    assert [(b.records, b.spans) for b in held] == [
        ([], [(TP(IN, 0), range(0, 3))]),
        ([], [(TP(IN, 0), range(3, 6))]),
        ([], [(TP(IN, 0), range(6, 7))]),
    ]


async def test_a_chunk_spans_partitions_and_offset_gaps() -> None:
    first, second = TP(IN, 0), TP(IN, 1)
    fetch = {
        first: [_record(IN, 0, o) for o in (0, 1, 4)],
        second: [_record(IN, 1, o) for o in (7, 8, 9, 10)],
    }
    consumer = _Consumer([fetch])
    spans: list[list[Any]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        spans.append(list(batch.spans))

    await _drain(consumer, divert=True, divert_max=5, handler=handler)
    assert spans == [[(first, (0, 1, 4)), (second, range(7, 9))], [(second, range(9, 11))]]


async def test_chunks_say_which_partitions_of_their_fetch_are_still_to_come() -> None:
    """Event-time alignment counts a partition whose fetched records are not
    handed over yet as behind (``Fetched.upcoming``), and looks at held
    inputs again only once a fetch is all handed over (``after_fetch``)."""
    a, b = TP(IN, 0), TP(IN, 1)
    fetch = {a: [_record(IN, 0, o) for o in range(5)], b: [_record(IN, 1, o) for o in range(2)]}
    consumer = _Consumer([fetch])
    seen: list[tuple[str, frozenset[tuple[str, int]]]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        seen.append(("chunk", batch.upcoming))

    async def after(owner: Any) -> None:
        assert owner is consumer
        seen.append(("after", frozenset()))

    faust_patches.install(frozenset({IN}), handler, 3, after_fetch=after)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=_Stopped()))
    finally:
        faust_patches.uninstall()
    assert seen[:4] == [
        ("chunk", frozenset({(IN, 0), (IN, 1)})),  # a cut mid-run, b still to come
        ("chunk", frozenset({(IN, 1)})),  # the rest of a and the start of b
        ("chunk", frozenset()),  # the last chunk of the fetch
        ("after", frozenset()),
    ]


async def test_nothing_fetched_before_the_seek_that_ends_a_rebalance_is_handed_over() -> None:
    """Faust resumes the partitions while a rebalance is under way (table
    recovery, then the streams) and seeks them to the committed offsets
    before it ends it. Diverted records fetched before the seek come from
    positions it moves (1903, where the commit is 1897): handed over, they
    were applied ahead of the inputs the seek delivered again, which settled
    at the later clock, or were dropped as read (lost). Records fetched after
    the seek but before the rebalance ends are left out too; the first fetch
    after it seeks again and only the next one is handed over. Other
    topics' records (the changelogs recovery reads) go all along."""
    usage, changelog = TP(IN, 1), TP(OTHER, 1)
    fetches = [
        {usage: [_record(IN, 1, o) for o in range(1903, 1906)], changelog: [_record(OTHER, 1, 4)]},
        {usage: [_record(IN, 1, o) for o in range(1897, 1900)], changelog: [_record(OTHER, 1, 5)]},
        {usage: [_record(IN, 1, 1900)]},  # on from where the one left out ended
        {usage: [_record(IN, 1, o) for o in range(1897, 1901)]},  # after the seek again
    ]
    consumer = _Consumer(fetches)
    consumer.app.rebalancing = True

    async def handler(owner: Any, batch: Fetched) -> None:
        consumer.diverted.append([(r.topic, r.partition, r.offset) for r in batch.records])

    async def recovered(message: Any) -> None:
        consumer.called.append((message.topic, message.offset))
        if message.offset == 4:  # the rebalance's seek
            await consumer.perform_seek()
        consumer.app.rebalancing = message.offset < 5  # and its end

    async def seek_to_committed() -> dict[TP, int]:
        return {usage: 1897}

    async def perform_seek() -> None:
        consumer.seeks += 1
        await faust_patches._perform_seek(consumer)

    consumer.callback = recovered  # type: ignore[method-assign]
    consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    consumer.seek_to_committed = seek_to_committed  # type: ignore[attr-defined]
    consumer._committed_offset = {}  # type: ignore[attr-defined]
    consumer.assignment = lambda: {usage}  # type: ignore[attr-defined]
    faust_patches.install(frozenset({IN}), handler)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=_Stopped()))
    finally:
        faust_patches.uninstall()
    assert consumer.called == [(OTHER, 4), (OTHER, 5)]
    assert consumer.diverted == [[(IN, 1, o) for o in range(1897, 1901)]]
    assert consumer.seeks == 2  # the rebalance's, and the one after it
    assert consumer._read_offset[usage] == 1900
