"""The batched drain (``faust_patches._Drain.batched``, used when topics are
diverted to the fast path) against Faust's own per-message semantics: the same
messages, built the same way, each delivered once in offset order, the same
read offsets and offset gaps, other topics still one by one. Stand-in
consumer, real aiokafka records and Faust message types: no broker."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.consumer import Consumer as FaustConsumer
from faust.types import TP
from intervaltree import IntervalTree

from streams.speedups import faust_patches
from streams.speedups.fetched import Fetched
from tests.unit.streams.faust_drain_support import (
    IN,
    OTHER,
    DrainConsumer,
    Stopped,
    drain,
    faust_message,
    fetches_of,
    record,
)


def _state(message: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(message).items() if k != "time_in"}


#: Re-fetched offsets, a gap inside a fetch (5 -> 9) and one across fetches (10 -> 12).
OFFSETS = [[0, 1, 2], [1, 2, 3, 4, 5, 9, 10], [12, 13]]


async def test_same_messages_offsets_and_gaps_as_the_per_message_loop() -> None:
    per_message, batched = DrainConsumer(fetches_of(OFFSETS)), DrainConsumer(fetches_of(OFFSETS))
    await drain(per_message, divert=False)
    await drain(batched, divert=True)
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
    consumer = DrainConsumer(fetches_of([delivered]))
    await drain(consumer, divert=True)
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
    consumer = DrainConsumer(fetches_of([list(range(12))]))
    await drain(consumer, divert=True, divert_max=5)
    assert [len(chunk) for chunk in consumer.diverted] == [5, 5, 2]
    assert [o for chunk in consumer.diverted for _, _, o in chunk] == list(range(12))


async def test_other_topics_go_one_by_one_and_inactive_partitions_are_skipped() -> None:
    active, paused, other = TP(IN, 0), TP(IN, 1), TP(OTHER, 0)
    fetch = {
        active: [record(IN, 0, o) for o in (0, 1)],
        paused: [record(IN, 1, 0)],
        other: [record(OTHER, 0, o) for o in (4, 5)],
    }
    consumer = DrainConsumer([fetch], active={active, other})
    built: list[dict[str, Any]] = []

    async def callback(message: Any) -> None:
        consumer.called.append((message.topic, message.offset))
        built.append(_state(message))

    consumer.callback = callback  # type: ignore[method-assign]
    await drain(consumer, divert=True)
    assert consumer.diverted == [[(IN, 0, 0), (IN, 0, 1)]]
    assert consumer.called == [(OTHER, 4), (OTHER, 5)]
    # what Faust's _to_message would have built
    assert built == [_state(faust_message(other, record(OTHER, 0, o))) for o in (4, 5)]
    assert consumer.end_offsets == [(active, 1000), (other, 1000)]  # once per partition
    assert consumer._read_offset == {active: 1, paused: None, other: 5}


async def test_flow_stopped_seeks_back_and_delivers_nothing() -> None:
    consumer = DrainConsumer(fetches_of([[0, 1]]))
    consumer.flow_active = False
    await drain(consumer, divert=True)
    assert consumer.diverted == [] and consumer.called == []
    assert consumer.seeks == 1


@pytest.mark.parametrize("divert", [False, True])
async def test_commit_every_is_honoured(divert: bool) -> None:
    consumer = DrainConsumer(fetches_of([[0, 1], [2]]))
    consumer._commit_every = 1  # type: ignore[assignment]
    consumer._n_acked = 5
    commits: list[int] = []

    async def commit() -> None:
        commits.append(consumer._n_acked)

    consumer.commit = commit  # type: ignore[attr-defined]
    await drain(consumer, divert=divert)
    assert commits == [0]  # due once, reset; nothing was acked in between


async def test_handled_chunks_keep_what_an_ack_needs_but_not_their_records() -> None:
    # The fast path holds handled chunks until their state is written, only to
    # ack them: the drain drops their records once the handler returns.
    consumer = DrainConsumer(fetches_of([[0, 1, 2, 3, 4, 5, 6]]))
    held: list[Fetched] = []
    payloads: list[tuple[bytes, bytes]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        payloads.extend((r.key, r.value) for r in batch.records)
        held.append(batch)

    await drain(consumer, divert=True, divert_max=3, handler=handler)  # full chunks and a rest
    assert payloads == [(f"k{o}".encode(), f"v{o}".encode()) for o in range(7)]
    assert [(b.records, b.spans) for b in held] == [
        ([], [(TP(IN, 0), range(0, 3))]),
        ([], [(TP(IN, 0), range(3, 6))]),
        ([], [(TP(IN, 0), range(6, 7))]),
    ]


async def test_a_chunk_spans_partitions_and_offset_gaps() -> None:
    first, second = TP(IN, 0), TP(IN, 1)
    fetch = {
        first: [record(IN, 0, o) for o in (0, 1, 4)],
        second: [record(IN, 1, o) for o in (7, 8, 9, 10)],
    }
    consumer = DrainConsumer([fetch])
    spans: list[list[Any]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        spans.append(list(batch.spans))

    await drain(consumer, divert=True, divert_max=5, handler=handler)
    assert spans == [[(first, (0, 1, 4)), (second, range(7, 9))], [(second, range(9, 11))]]


async def test_chunks_say_which_partitions_of_their_fetch_are_still_to_come() -> None:
    """Event-time alignment counts a partition whose fetched records are not
    handed over yet as behind (``Fetched.upcoming``), and looks at held
    inputs again only once a fetch is all handed over (``after_fetch``)."""
    a, b = TP(IN, 0), TP(IN, 1)
    fetch = {a: [record(IN, 0, o) for o in range(5)], b: [record(IN, 1, o) for o in range(2)]}
    consumer = DrainConsumer([fetch])
    seen: list[tuple[str, frozenset[tuple[str, int]]]] = []

    async def handler(owner: Any, batch: Fetched) -> None:
        seen.append(("chunk", batch.upcoming))

    async def after(owner: Any) -> None:
        assert owner is consumer
        seen.append(("after", frozenset()))

    faust_patches.install(frozenset({IN}), handler, 3, after_fetch=after)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=Stopped()))
    finally:
        faust_patches.uninstall()
    assert seen[:4] == [
        ("chunk", frozenset({(IN, 0), (IN, 1)})),  # a cut mid-run, b still to come
        ("chunk", frozenset({(IN, 1)})),  # the rest of a and the start of b
        ("chunk", frozenset()),  # the last chunk of the fetch
        ("after", frozenset()),
    ]
