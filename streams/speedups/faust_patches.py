"""One measured patch to Faust's consumer loop (faust-streaming 0.15.3).

``Consumer._drain_messages`` hands every message to the conductor through
``wait_first(callback(message), suspend_flow.wait())``: four tasks and an
``asyncio.wait`` per message, 36 % of the main thread in the profile of the
design brief. The ``wait_first`` only matters while flow is suspended (a
rebalance), so the patched loop awaits the callback directly while flow runs
and keeps Faust's exact behaviour while it is suspended. The conductor's own
``on_message`` still waits for flow control and handles full stream queues.
Everything else is Faust's code, unchanged. Measured: 1.6x events/s (brief).

The same loop can also *divert* the messages of chosen topics to a batch
handler (``streams.speedups.fastpath``) instead of the conductor: no ``Event``, no
stream queue, no per-message lock. The handler gets the records fetched in
one ``getmany`` (at most ``divert_max`` at a time) as a ``streams.speedups.fetched.
Fetched``: aiokafka's records, with no ``ConsumerMessage`` built around each.
It tracks and acks them itself, a chunk at a time (``streams.speedups.fetched``);
offsets are still committed by Faust, only for acked ones. When it does,
the loop drains a fetched partition at a time (``fetch_batches``): Faust's
``getmany`` is an async generator that, per message, steps a round-robin
iterator, checks the generation, updates the high-water gauge and builds the
message, and the loop then checks offsets one by one. Measured
(``bench/profile_worker.py --compare``, 300k events over 50k accounts, Apache
Kafka): 1.24x events/s, 0.89x CPU per event.

``set_fetch_max_wait`` replaces the one consumer setting Faust hard-codes,
``fetch_max_wait_ms=1500`` (``AIOKafkaConsumerThread._create_worker_consumer``).
Apache Kafka answers a fetch as soon as data is there, so the value only
bounds an idle round trip; Tansu 0.6.0 sleeps on every fetch (half the
remaining wait while that is >= 250 ms, all of it below), data or not, so it
bounds how long every event waits in the broker: 750 ms per fetch at 1500.

Kept as a copy of one method, pinned to the Faust version it was taken from:
``install()`` refuses any other version rather than patching blind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types.tuples import ConsumerMessage

from streams.speedups.fetched import Fetched, let_go, must_seek, sought

PATCHED_FAUST_VERSION = "0.15.3"
_ORIGINAL = Consumer._drain_messages
_ORIGINAL_PERFORM_SEEK = Consumer.perform_seek
_ORIGINAL_CREATE_WORKER_CONSUMER = AIOKafkaConsumerThread._create_worker_consumer

#: (consumer, chunk) -> None; processes, then acks, a chunk of diverted records.
DivertHandler = Callable[[Any, Fetched], Awaitable[None]]
_divert_topics: frozenset[str] = frozenset()
_divert_handler: DivertHandler | None = None
#: consumer -> None; called after each fetch's records are all handed over.
FetchedHook = Callable[[Any], Awaitable[None]]
_after_fetch: FetchedHook | None = None
_divert_max = 5000


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover - loop body
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    drain = _Drain(self)
    drain_fetch = drain.per_message if _divert_handler is None else drain.batched
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(CONSUMER_FETCHING)
            await drain_fetch()
            unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(CONSUMER_FETCHING)


class _Drain:
    """One fetch's worth of Faust's ``_drain_messages`` loop body, two ways."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.get_read_offset = consumer._read_offset.__getitem__
        self.set_read_offset = consumer._read_offset.__setitem__
        self.acks_enabled_for = consumer.app.topics.acks_enabled_for
        self.since_yield = 0

    async def per_message(self) -> None:
        """Faust's body with the direct callback (see the module docstring)."""
        consumer = self.consumer
        ait = consumer.getmany(timeout=1.0)
        await consumer.sleep(0)
        if consumer.should_stop:
            return
        async for tp, message in ait:
            await self._deliver(tp, message)

    async def _deliver(self, tp: Any, message: Any) -> None:
        """One message to the conductor, as Faust does (offset checks included)."""
        consumer = self.consumer
        self.since_yield += 1
        if self.since_yield > _YIELD_EVERY:
            await asyncio.sleep(0)
            self.since_yield = 0
        offset = message.offset
        r_offset = self.get_read_offset(tp)
        if r_offset is None or offset >= r_offset:
            gap = offset - (r_offset or 0)
            if gap > 1 and r_offset and self.acks_enabled_for(message.topic):
                await consumer._add_gap(tp, r_offset + 1, offset)
            await self._maybe_commit()
            if consumer.suspend_flow.is_set():  # rebalance: Faust's behaviour, unchanged
                await consumer.wait_first(consumer.callback(message), consumer.suspend_flow.wait())
            else:
                await consumer.callback(message)
            self.set_read_offset(tp, offset)

    async def _maybe_commit(self) -> None:
        consumer = self.consumer
        commit_every = consumer._commit_every
        if commit_every is not None and consumer._n_acked >= commit_every:
            consumer._n_acked = 0
            await consumer.commit()

    async def batched(self) -> None:
        """The diverted topics' messages a partition at a time: one list per
        fetched partition (no async generator step, high-water update or
        offset check per message), handed to the divert handler in chunks of
        at most ``divert_max``; other topics' messages go one by one as above.

        Like Faust's ``getmany``, nothing more is handed over once flow stops
        or the group generation changes (a rebalance began while an earlier
        part was processed), nor while a rebalance is under way: the rest is
        fetched again after a seek to the committed offsets (``fetched.let_go``)."""
        consumer = self.consumer
        generation, fetched = await fetch_batches(consumer, 1.0)
        await consumer.sleep(0)
        if consumer.should_stop:
            return
        app = consumer.app

        def current() -> bool:
            return bool(consumer.flow_active) and app.consumer_generation_id == generation

        chunk = Fetched()
        chunk.generation = generation
        for index, (tp, records) in enumerate(fetched):
            if not current():
                return let_go(consumer)
            if tp.topic not in _divert_topics:
                if not await self._deliver_each(tp, records, current):
                    return let_go(consumer)
                continue
            records = await self._unread(tp, records)
            if not records:
                continue
            await self._maybe_commit()
            self.set_read_offset(tp, records[-1].offset)
            start = 0
            while start < len(records):
                room = _divert_max - len(chunk.records)
                chunk.add(tp, records[start : start + room])
                start += room
                if len(chunk.records) >= _divert_max:
                    chunk.upcoming = _upcoming(fetched, index, tp if start < len(records) else None)
                    await _hand_over(consumer, chunk)
                    chunk = Fetched()
                    chunk.generation = generation
                    if not current():
                        return let_go(consumer)
        await self._finish(chunk, current)

    async def _finish(self, chunk: Fetched, current: Callable[[], bool]) -> None:
        """Hand over the fetch's last chunk, then call the after-fetch hook:
        no record of this fetch is still to come."""
        if chunk.records:
            await _hand_over(self.consumer, chunk)
        if _after_fetch is not None and current():
            await _after_fetch(self.consumer)

    async def _deliver_each(
        self, tp: Any, messages: list[Any], current: Callable[[], bool]
    ) -> bool:
        """Hand ``messages`` over one by one (Faust's own way); False once flow
        stopped or the generation changed, with the rest left to re-fetch."""
        for message in messages:
            if not current():
                return False
            await self._deliver(tp, message)
        return True

    async def _unread(self, tp: Any, messages: list[Any]) -> list[Any]:
        """Drop messages below the read offset (a re-fetch) and record offset
        gaps as Faust does per message - here only when the offsets are not
        consecutive, which a plain topic's are unless an undecodable batch
        was skipped (``streams.speedups.undecodable``). A gap ends before the
        message after it: Faust's own call ends it at that message, which is
        acked too, and the offset counted twice splits Faust's run of acked
        offsets: a commit then moves past one gap only, and a stopping worker
        leaves the rest uncommitted, to be read again."""
        r_offset = self.get_read_offset(tp)
        if r_offset is not None and messages[0].offset < r_offset:
            messages = [m for m in messages if m.offset >= r_offset]
            if not messages:
                return messages
        first, last = messages[0].offset, messages[-1].offset
        consecutive = last - first == len(messages) - 1
        if (consecutive and (not r_offset or first - r_offset <= 1)) or not self.acks_enabled_for(
            tp.topic
        ):
            return messages
        previous = r_offset
        for message in messages:
            if previous and message.offset - previous > 1:
                await self.consumer._add_gap(tp, previous + 1, message.offset - 1)
            previous = message.offset
        return messages


#: What Faust's ``_to_message`` passes for a record without a timestamp.
_NO_TIMESTAMP: float = cast(float, None)

#: The per-message loop lets other tasks run every this many messages (Faust's value).
_YIELD_EVERY = 100


async def fetch_batches(consumer: Any, poll_s: float) -> tuple[int, list[tuple[Any, list[Any]]]]:
    """``Consumer.getmany`` as lists: the same records, partitions, high-water
    tracking, flow and generation checks, per partition rather than per
    message, with no await in between (so no rebalance can start midway,
    which is what Faust's per-message generation check guards against; the
    caller checks it between the partitions it hands over). A diverted
    topic's records stay aiokafka's (``streams.speedups.fetched``); other topics' are
    ``ConsumerMessage`` objects as ``AIOKafkaConsumerThread._to_message``
    builds them. Returns the group generation they belong to, and the records.

    Diverted records fetched while a rebalance is under way are left out:
    Faust resumes the partitions before it seeks them to the committed
    offsets, so they can come from positions about to move (applied, they
    moved clocks past inputs the seek delivered again). As some may come
    after that seek, the first fetch after the rebalance seeks again and
    leaves its own out (``fetched.let_go``)."""
    records, active = await consumer._wait_next_records(poll_s)
    generation = consumer.app.consumer_generation_id
    before_seek = consumer.app.rebalancing
    if records is None or consumer.should_stop:
        return generation, []
    if not consumer.flow_active:
        consumer.log.dev("getmany called while flow not active. Seek back to committed offsets.")
        try:
            await consumer.perform_seek()
        except Exception as ex:
            consumer.log.warning(f"exception performing seek when flow not active {ex}")
        return generation, []
    if not before_seek and must_seek(consumer):
        await consumer.perform_seek()
        before_seek = True
    track_end_offset = consumer.app.monitor.track_tp_end_offset
    buffered = consumer._buffered_partitions
    out: list[tuple[Any, list[Any]]] = []
    for tp, batch in records.items():
        if not batch or not (active is None or tp in active or tp in buffered):
            continue
        track_end_offset(tp, consumer.highwater(tp))
        if tp.topic in _divert_topics:
            if not before_seek:
                out.append((tp, batch))
            elif consumer.app.rebalancing:
                let_go(consumer)
            continue
        out.append((tp, [
            ConsumerMessage(
                r.topic, r.partition, r.offset,
                r.timestamp / 1000.0 if r.timestamp is not None else _NO_TIMESTAMP,
                r.timestamp_type, r.headers, r.key, r.value, r.checksum,
                r.serialized_key_size, r.serialized_value_size, tp,
                generation_id=generation,
            )
            for r in batch
        ]))  # fmt: skip
    return generation, out


async def _perform_seek(self: Any) -> None:
    """Faust's ``perform_seek``, then every diverted partition with no
    committed offset (or 0) back to its start.

    Faust seeks to the committed offsets after each rebalance's table
    recovery, and whenever records come while the flow is stopped, which it
    then drops: records fetched but never handed over, and batches the fast
    path's drain let go unacked, are read again from there. But aiokafka's
    ``seek_to_committed`` seeks only where an offset above 0 is committed;
    elsewhere (a new group, or a partition nobody committed yet) the consumer
    read on from where its fetcher had got to, and those records were read by
    nobody (the fault suite's clean bounce lost 79 of 1,558 ids that way). The
    seek runs in the consumer's own thread (``seek_wait``): aiokafka's state
    belongs to it; a plain ``seek`` from this thread left partitions unfetched."""
    sought(self)
    await _ORIGINAL_PERFORM_SEEK(self)
    committed = self._committed_offset
    rewind = {
        tp: 0 for tp in self.assignment() if tp.topic in _divert_topics and not committed.get(tp)
    }
    if rewind:
        await self.seek_wait(rewind)


def _upcoming(
    fetched: list[tuple[Any, list[Any]]], index: int, cut: Any
) -> frozenset[tuple[str, int]]:
    """The diverted partitions with records of this fetch after a chunk ending
    in ``fetched[index]`` (``cut``: its partition, when the chunk ended
    mid-run): aiokafka's position already counts them as read, so event-time
    alignment asks here whether they are still to come (``streams.speedups.backlog``)."""
    after = {
        (tp.topic, tp.partition) for tp, _ in fetched[index + 1 :] if tp.topic in _divert_topics
    }
    if cut is not None:
        after.add((cut.topic, cut.partition))
    return frozenset(after)


async def _hand_over(consumer: Any, chunk: Fetched) -> None:
    """A chunk to the divert handler; its records are dropped once handled:
    the fast path holds a chunk until the state it changed is written (up to
    a few persist intervals) only to ack it, which needs only its offsets."""
    assert _divert_handler is not None
    await _divert_handler(consumer, chunk)
    chunk.release()


#: What Faust passes to aiokafka as ``fetch_max_wait_ms``.
FAUST_FETCH_MAX_WAIT_MS = 1500


def _check_version() -> None:
    if faust.__version__ != PATCHED_FAUST_VERSION:
        raise RuntimeError(
            f"streams.speedups.faust_patches targets faust-streaming {PATCHED_FAUST_VERSION}, "
            f"found {faust.__version__}: re-check the patches, or run Faust unpatched with"
            f" HEALTHSCORE_FAST_DRAIN=0 HEALTHSCORE_FETCH_MAX_WAIT_MS={FAUST_FETCH_MAX_WAIT_MS}"
        )


def set_fetch_max_wait(ms: int | None) -> None:
    """Make the worker's consumer fetch with ``fetch_max_wait_ms=ms`` (None:
    Faust's own). The value reaches aiokafka's fetcher when the consumer starts."""
    if ms is None or ms == FAUST_FETCH_MAX_WAIT_MS:
        AIOKafkaConsumerThread._create_worker_consumer = _ORIGINAL_CREATE_WORKER_CONSUMER  # type: ignore[method-assign]
        return
    _check_version()

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = _ORIGINAL_CREATE_WORKER_CONSUMER(self, transport)
        consumer._fetch_max_wait_ms = ms  # read by AIOKafkaConsumer.start() for its Fetcher
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]


def install(
    divert_topics: frozenset[str] = frozenset(),
    handler: DivertHandler | None = None,
    divert_max: int = 5000,
    after_fetch: FetchedHook | None = None,
) -> None:
    """Patch the consumer loop; idempotent. Raises on an unknown Faust version."""
    global _divert_topics, _divert_handler, _divert_max, _after_fetch
    _check_version()
    _divert_topics, _divert_handler, _divert_max = divert_topics, handler, divert_max
    _after_fetch = after_fetch
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek if handler is not None else _ORIGINAL_PERFORM_SEEK  # type: ignore[method-assign]


def uninstall() -> None:
    global _divert_topics, _divert_handler, _after_fetch
    _divert_topics, _divert_handler, _after_fetch = frozenset(), None, None
    Consumer._drain_messages = _ORIGINAL  # type: ignore[method-assign]
    Consumer.perform_seek = _ORIGINAL_PERFORM_SEEK  # type: ignore[method-assign]


def is_installed() -> bool:
    return Consumer._drain_messages is _drain_messages
