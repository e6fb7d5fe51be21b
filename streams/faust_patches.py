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
handler (``streams.fastpath``) instead of the conductor: no ``Event``, no
stream queue, no per-message lock. The handler gets the list fetched in one
``getmany`` (at most ``divert_max`` at a time), tracks and acks them itself;
offsets are still committed by Faust, only for acked messages.

``track_batch`` / ``ack_batch`` are the consumer's own pending-set and ack
bookkeeping done once per diverted batch (the test compares them with
``Consumer.track_message`` / ``Consumer.ack`` on a real Faust consumer).

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
from typing import Any

import faust
from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

PATCHED_FAUST_VERSION = "0.15.3"
_ORIGINAL = Consumer._drain_messages
_ORIGINAL_CREATE_WORKER_CONSUMER = AIOKafkaConsumerThread._create_worker_consumer

#: (consumer, messages) -> None; processes, then acks, the diverted messages.
DivertHandler = Callable[[Any, list[Any]], Awaitable[None]]
_divert_topics: frozenset[str] = frozenset()
_divert_handler: DivertHandler | None = None
_divert_max = 5000


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover - loop body
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    suspended = self.suspend_flow.is_set

    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for

    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep
    divert_topics, divert, divert_max = _divert_topics, _divert_handler, _divert_max
    diverted: list[Any] = []
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(CONSUMER_FETCHING)
            ait = getmany(timeout=1.0)
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0
                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        if divert is not None and message.topic in divert_topics:
                            diverted.append(message)
                            if len(diverted) >= divert_max:
                                await divert(self, diverted)
                                diverted = []
                        elif suspended():  # rebalance: Faust's behaviour, unchanged
                            await self.wait_first(callback(message), self.suspend_flow.wait())
                        else:
                            await callback(message)
                        set_read_offset(tp, offset)
                if diverted:
                    await divert(self, diverted)  # type: ignore[misc]
                    diverted = []
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


def track_batch(consumer: Any, messages: list[Any]) -> None:
    """``Consumer.track_message`` for a fetched batch, without its per-message
    sensor call: Faust's Prometheus monitor does four labelled metric updates
    per message there (~9 % of the worker's samples). The worker counts its
    inputs itself (``healthscore_events_consumed_total``), once per batch.
    What a rebalance or shutdown needs - the pending set - is kept."""
    consumer._unacked_messages.update(messages)


def ack_batch(consumer: Any, messages: list[Any]) -> int:
    """``Consumer.ack`` for many messages: the same bookkeeping, under one
    ``ack_lock`` and one waiter notification instead of one per message.
    Returns how many were newly acked (``Consumer.ack`` returning True)."""
    acked = 0
    acks_enabled_for = consumer.app.topics.acks_enabled_for
    committed_offsets, acked_indexes = consumer._committed_offset, consumer._acked_index
    acked_lists, unacked = consumer._acked, consumer._unacked_messages
    with ack_lock:
        try:
            for message in messages:
                if message.acked:
                    continue
                message.acked = True
                if not acks_enabled_for(message.topic):
                    continue
                tp, offset = message.tp, message.offset
                committed = committed_offsets[tp]
                if committed is None or offset >= committed:
                    index = acked_indexes[tp]
                    if offset not in index:
                        unacked.discard(message)
                        index.add(offset)
                        acked_lists[tp].append(offset)
                        acked += 1
        finally:
            consumer._n_acked += acked
            notify(consumer._waiting_for_ack)
    return acked


#: What Faust passes to aiokafka as ``fetch_max_wait_ms``.
FAUST_FETCH_MAX_WAIT_MS = 1500


def _check_version() -> None:
    if faust.__version__ != PATCHED_FAUST_VERSION:
        raise RuntimeError(
            f"streams.faust_patches targets faust-streaming {PATCHED_FAUST_VERSION}, "
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
) -> None:
    """Patch the consumer loop; idempotent. Raises on an unknown Faust version."""
    global _divert_topics, _divert_handler, _divert_max
    _check_version()
    _divert_topics, _divert_handler, _divert_max = divert_topics, handler, divert_max
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]


def uninstall() -> None:
    global _divert_topics, _divert_handler
    _divert_topics, _divert_handler = frozenset(), None
    Consumer._drain_messages = _ORIGINAL  # type: ignore[method-assign]


def is_installed() -> bool:
    return Consumer._drain_messages is _drain_messages  # type: ignore[comparison-overlap]
