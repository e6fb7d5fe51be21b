"""``streams.speedups.fetched``: a diverted chunk tracked and acked as a whole leaves
Faust's consumer with the bookkeeping its own per-message ``track_message`` /
``ack`` would (what it commits is computed from it), and holds no records once
released. A real Faust consumer, never started: no broker."""

from __future__ import annotations

import weakref
from typing import Any

from aiokafka.structs import ConsumerRecord
from faust.types import TP
from faust.types.tuples import Message

from streams.speedups import fetched
from streams.speedups.fetched import Fetched


def _real_consumer(acking: set[str]) -> Any:
    """Faust's aiokafka Consumer, never started (no broker): only its ack bookkeeping."""
    import faust

    app = faust.App(f"fetched-test-{len(acking)}", broker="kafka://127.0.0.1:1")

    async def callback(message: Any) -> None:
        return None

    consumer = app.transport.create_consumer(
        callback=callback, on_partitions_revoked=None, on_partitions_assigned=None
    )
    app.topics._acking_topics.update(acking)
    return consumer


def _record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic, partition, offset, 1_700_000_000_000, 0, b"k", b"v", None, 1, 1, ()
    )


#: Runs as the drain hands them over: consecutive offsets, a run with gaps, an
#: offset acked twice (a re-fetch), a topic without acks, offsets below the
#: committed one (partition 1 from 1, partition 3 from 4).
RUNS = [
    ("in", 0, [5, 6]),
    ("in", 1, [2]),
    ("in", 0, [6, 7]),
    ("other", 0, [1]),
    ("in", 1, [0]),
    ("in", 2, [3, 5, 9]),
    ("in", 3, [2, 3, 4, 5, 6]),
]
COMMITTED = {TP("in", 1): 1, TP("in", 3): 4}


def _bookkeeping(consumer: Any) -> tuple[Any, ...]:
    pending = [m for m in consumer._unacked_messages if not m.acked]  # Faust's clean-up
    return (
        {tp: sorted(offsets) for tp, offsets in consumer._acked.items() if offsets},
        {tp: set(index) for tp, index in consumer._acked_index.items() if index},
        consumer._n_acked,
        pending,
    )


def test_acking_a_chunk_keeps_fausts_per_message_bookkeeping() -> None:
    one, whole = _real_consumer({"in"}), _real_consumer({"in"})
    for consumer in (one, whole):
        consumer._committed_offset.update(COMMITTED)
    singles = [
        Message(topic, part, o, 0.0, None, None, b"k", b"v", None, tp=TP(topic, part))
        for topic, part, offsets in RUNS
        for o in offsets
    ]
    chunk = Fetched()
    for topic, part, offsets in RUNS:
        chunk.add(TP(topic, part), [_record(topic, part, o) for o in offsets])
    for message in singles:
        one.track_message(message)
    fetched.track(whole, chunk)
    assert len(whole._unacked_messages) == 1 and not chunk.acked

    newly = [one.ack(message) for message in singles]
    assert fetched.ack(whole, chunk) == sum(newly) == 10
    assert _bookkeeping(whole) == _bookkeeping(one)
    assert _bookkeeping(whole)[0] == {
        TP("in", 0): [5, 6, 7],
        TP("in", 1): [2],
        TP("in", 2): [3, 5, 9],
        TP("in", 3): [4, 5, 6],
    }
    assert chunk.acked and not whole._unacked_messages
    assert fetched.ack(whole, chunk) == 0  # acking twice changes nothing
    assert _bookkeeping(whole) == _bookkeeping(one)


def test_a_chunk_acked_on_top_of_single_acks_adds_only_the_rest() -> None:
    consumer = _real_consumer({"in"})
    tp = TP("in", 0)
    consumer.ack(Message("in", 0, 3, 0.0, None, None, b"k", b"v", None, tp=tp))
    chunk = Fetched()
    chunk.add(tp, [_record("in", 0, o) for o in range(2, 6)])
    assert fetched.ack(consumer, chunk) == 3
    assert sorted(consumer._acked[tp]) == [2, 3, 4, 5]
    assert consumer._n_acked == 4


def test_runs_are_kept_as_ranges_and_released_records_are_freed() -> None:
    chunk = Fetched()
    records = [_record("in", 0, o) for o in (10, 11, 12)]
    chunk.add(TP("in", 0), records)
    chunk.add(TP("in", 1), [_record("in", 1, o) for o in (4, 7)])
    assert chunk.spans == [(TP("in", 0), range(10, 13)), (TP("in", 1), (4, 7))]
    assert [r.offset for r in chunk.records] == [10, 11, 12, 4, 7]
    assert len(chunk) == 5
    watch = weakref.ref(records[0])
    del records
    chunk.release()  # freed by reference counting: no collection needed
    assert watch() is None and chunk.records == [] and len(chunk) == 5
