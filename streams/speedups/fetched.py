"""A diverted batch as the fast path holds it: aiokafka's records while they
are processed, then only what acking them needs.

Faust wraps every fetched record in a ``ConsumerMessage`` (21 slots, built in
Python) so that each can be tracked in the consumer's pending set and acked on
its own. The fast path processes, tracks and acks a fetched chunk as a whole,
so it takes aiokafka's records as fetched and puts one ``Fetched`` per chunk in
the pending set instead; acking it does ``Consumer.ack``'s bookkeeping for
every offset it covers, a partition's run at a time.

Measured (``bench/profile_worker.py``, 1M events over 50k accounts, Apache
Kafka): building the messages was the largest single line of the worker's
profile (9 %), and the handled messages were most of what the worker held
between persists (~500 B each, ~12 MB/s at 25k events/s): after processing, a
``Fetched`` keeps its offsets - one ``range`` per partition run - and drops
its records (``release``).

What Faust reads of a pending-set member is kept: ``acked`` (its clean-up of
acked members) and ``refcount`` (its warning while a rebalance waits).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

#: The offsets of one partition run: a ``range`` when they are consecutive
#: (always, on a plain topic), else the offsets themselves.
Offsets = range | tuple[int, ...]


class Fetched:
    """Records diverted from one fetch, in fetch order, and their offsets by
    partition. A member of the consumer's pending set until acked."""

    __slots__ = (
        "__weakref__",
        "acked",
        "generation",
        "records",
        "refcount",
        "spans",
        "upcoming",
    )

    def __init__(self) -> None:
        #: aiokafka ``ConsumerRecord``s (timestamps in ms), until ``release``.
        self.records: list[Any] = []
        self.spans: list[tuple[TP, Offsets]] = []
        self.acked = False
        self.refcount = 0
        #: (topic, partition) of diverted records of the same fetch handed
        #: over after this chunk (``streams.speedups.backlog``).
        self.upcoming: frozenset[tuple[str, int]] = frozenset()
        #: The consumer group generation it was fetched in (None: unknown, a
        #: test's); see ``current``.
        self.generation: int | None = None

    def add(self, tp: TP, records: Sequence[Any]) -> None:
        """Append a run of one partition's records (offsets ascending)."""
        first, last = records[0].offset, records[-1].offset
        if last - first == len(records) - 1:
            offsets: Offsets = range(first, last + 1)
        else:
            offsets = tuple(record.offset for record in records)
        self.records.extend(records)
        self.spans.append((tp, offsets))

    def __len__(self) -> int:
        return sum(len(offsets) for _, offsets in self.spans)

    def release(self) -> None:
        """Drop the records (keys, values): an ack needs only the offsets."""
        self.records = []

    def __repr__(self) -> str:
        return f"<Fetched {len(self)} offsets in {len(self.spans)} runs, acked={self.acked}>"


def track(consumer: Any, batch: Fetched) -> None:
    """``Consumer.track_message`` for a chunk: a rebalance or shutdown waits for
    it to be acked (``Consumer.wait_empty``). Faust's per-message sensor call
    is left out: its Prometheus monitor did four labelled metric updates per
    message (~9 % of the worker's samples); the worker counts its inputs
    itself (``healthscore_events_consumed_total``), once per batch."""
    consumer._unacked_messages.add(batch)


def current(consumer: Any, batch: Fetched) -> bool:
    """Whether ``batch`` may still be applied: the consumer's flow is on and
    the group generation is the one it was fetched in. A rebalance stops the
    flow before the fast path's drain (``FastIngest.drain``) and seeks every
    partition back to its committed offset before the flow resumes, so a
    chunk fetched before it is read again from there. The patched loop checks
    the same before it hands a chunk over, but a chunk can then wait (an offset
    commit, the lock a drain holds) while the rebalance begins and the drain
    lets held batches go; applied after that, it wrote state stamped with read
    positions past inputs never applied (``streams.processing.reread``), and
    whoever read them again took them as done: outputs lost, and later ones
    computed without them. Checked where the batch is applied, under the lock.
    A rebalance is also under way from its start (before the flow stops)
    until that seek is done (after the flow resumes for table recovery):
    nothing read meanwhile is applied (``faust_patches.fetch_batches``)."""
    if not consumer.flow_active or consumer.app.rebalancing:
        return False
    return batch.generation is None or batch.generation == consumer.app.consumer_generation_id


def untrack(consumer: Any, batch: Fetched) -> None:
    """Let a tracked chunk go without acking it: its offsets stay uncommitted,
    so it is read again after the seek to the committed offsets that follows
    a rebalance (or by the next worker). A rebalance or shutdown waiting for
    it goes on."""
    let_go(consumer)
    with ack_lock:
        consumer._unacked_messages.discard(batch)
        notify(getattr(consumer, "_waiting_for_ack", None))


#: Consumers that let diverted records go since their last seek to the
#: committed offsets (``faust_patches._perform_seek``).
_LET_GO: weakref.WeakSet[Any] = weakref.WeakSet()


def let_go(consumer: Any) -> None:
    """Diverted records were fetched and not applied: aiokafka's position is
    past them, so nothing more may be applied until the consumer is sought
    back to the committed offsets. The seek that ends a rebalance does it
    unless it came first (records fetched after it, while the rebalance was
    still under way): then ``faust_patches.fetch_batches`` seeks again."""
    _LET_GO.add(consumer)


def sought(consumer: Any) -> None:
    """The consumer is being sought to its committed offsets."""
    _LET_GO.discard(consumer)


def must_seek(consumer: Any) -> bool:
    """Whether records were let go since the consumer's last seek."""
    return consumer in _LET_GO


def ack(consumer: Any, batch: Fetched) -> int:
    """``Consumer.ack`` for every offset of ``batch``, under one ``ack_lock``
    and one waiter notification: an offset below the committed one, or
    already acked, is skipped as Faust skips it. Returns how many offsets were
    newly acked (what Faust adds to ``_n_acked``, which paces commits)."""
    acked = 0
    acks_enabled_for = consumer.app.topics.acks_enabled_for
    committed_offsets, acked_indexes = consumer._committed_offset, consumer._acked_index
    with ack_lock:
        try:
            if batch.acked:
                return 0
            batch.acked = True
            consumer._unacked_messages.discard(batch)
            for tp, offsets in batch.spans:
                if not acks_enabled_for(tp.topic):
                    continue
                fresh = _unacked(offsets, committed_offsets[tp], acked_indexes[tp])
                acked_indexes[tp].update(fresh)
                consumer._acked[tp].extend(fresh)
                acked += len(fresh)
        finally:
            consumer._n_acked += acked
            notify(consumer._waiting_for_ack)
    return acked


def _unacked(offsets: Offsets, committed: int | None, index: set[int]) -> Sequence[int]:
    """The offsets Faust's ``ack`` would record: at or above the committed
    offset, not acked before, each once."""
    if committed is not None and offsets and offsets[0] < committed:
        offsets = (
            range(max(committed, offsets.start), offsets.stop)
            if isinstance(offsets, range)
            else tuple(o for o in offsets if o >= committed)
        )
    if isinstance(offsets, range) and index.isdisjoint(offsets):
        return offsets
    fresh: dict[int, None] = {}
    for offset in offsets:
        if offset not in index:
            fresh[offset] = None
    return tuple(fresh)
