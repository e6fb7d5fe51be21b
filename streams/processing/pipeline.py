"""The worker's per-batch work, shared by both ways messages arrive (the Faust
agent, or the fast path fed straight from the consumer loop):
decode -> dead-letter rejects -> engines -> persist dirty state -> produce.

Everything a batch produces - outputs, dead letters and the table's changelog
records - goes through one ``Sink`` (``streams.speedups.batching.BatchingSink``
on Faust's own aiokafka producer),
and is handed to that producer before the batch is acked. Faust flushes the
producer before every offset commit, so a committed offset always has its
outputs and its state change durably in Kafka (at-least-once; replays are
harmless because steps are idempotent and output ids deterministic).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from schemas import topics
from streams.observability import metrics
from streams.processing.align import Aligner, Behind, Ticket, never_behind
from streams.processing.deadletter import DeadLetterLimit, engine_failures
from streams.processing.encode import Emit
from streams.processing.gauges import decline_codes
from streams.processing.horizon import Horizon
from streams.processing.ingest import Accepted, DecodedBatch, RawMessage, decode_batch
from streams.processing.runtime import Runtime
from streams.processing.sink import Record, Sink

log = logging.getLogger(__name__)


class StateWriter(Protocol):
    def __call__(self, key: bytes, partition: int, record: dict[str, Any]) -> Iterable[Record]: ...


class Pipeline:
    def __init__(
        self,
        runtime: Runtime,
        sink: Sink,
        write_state: StateWriter,
        limit: DeadLetterLimit,
        *,
        spread_wakes: bool = False,
        aligner: Aligner | None = None,
        horizon: Horizon | None = None,
    ) -> None:
        self.runtime = runtime
        #: Holds inputs a lagging sibling partition may still precede
        #: (``streams.processing.align``); None: each batch as it comes.
        self.aligner = aligner
        #: The wall clock inputs and the live tick are bounded by.
        self.horizon = horizon or Horizon()
        #: (account, input id) of re-read inputs already held by stored state,
        #: gathered while re-reading (alignment may apply them batches later).
        self._held_ids: set[tuple[str, str]] = set()
        #: Fire other accounts' due timers after a batch, for a budget, rather
        #: than all before it (see ``catch_up``); the fast path's setting.
        self.spread_wakes = spread_wakes
        self.sink = sink
        self.write_state = write_state
        self.limit = limit
        #: Accounts (and partition clocks, account None) taken for writing and
        #: not yet written, an ordered set.
        self._pending: dict[tuple[int, str | None], None] = {}
        #: ``sink.shipped`` after the last slice: the next waits for its delivery.
        self._slice_shipped = 0

    async def handle(
        self,
        messages: Iterable[RawMessage],
        *,
        persist: bool = True,
        ms_timestamps: bool = False,
        behind: Behind = never_behind,
        ticket: Ticket | None = None,
    ) -> DecodedBatch:
        """Process a batch and hand its outputs to the producer. With
        ``persist=False`` the changed state is kept dirty for a later
        ``persist()`` (the caller must not ack before that). ``ms_timestamps``:
        the messages are aiokafka's records, timed in ms, not Faust's (seconds).
        ``behind`` and ``ticket``: for the aligner (``streams.processing.align``);
        the caller acks the batch only once ``ticket.held`` is 0."""
        started = time.perf_counter()
        messages = messages if isinstance(messages, list) else list(messages)
        batch = decode_batch(
            messages,
            timestamp_scale=0.001 if ms_timestamps else 1.0,
            limit=self.horizon.limit(),
        )
        if ticket is not None:
            ticket.read = batch.read
        records: list[Record] = []
        self._count_inputs(batch, records)
        before = _duplicates(self.runtime)
        runtime = self.runtime
        runtime.read(batch.read)
        if runtime.rereading:
            self._held_ids |= runtime.held(messages)
        items = self._aligned(batch, behind, ticket)
        outputs = runtime.process(items, defer_wakes=self.spread_wakes, held=self._held_ids)
        records.extend(engine_failures(runtime.take_failed()))
        if not runtime.rereading and not (self.aligner and self.aligner.holding):
            self._held_ids.clear()
        if persist:
            records.extend(self._persist())
        records.extend(_records(outputs))
        await self.sink.send(records)
        await self.sink.ship_all()
        _observe(outputs, _append_times(items))
        duplicates = _duplicates(self.runtime) - before
        if duplicates:
            metrics.EVENTS_DUPLICATE.labels("all").inc(duplicates)
        if self.spread_wakes and self.runtime.overdue:
            await self.catch_up(self._wake_budget(items, time.perf_counter() - started))
        return batch

    def _aligned(
        self, batch: DecodedBatch, behind: Behind, ticket: Ticket | None
    ) -> list[Accepted]:
        """The inputs to apply now: the batch's and earlier held ones that no
        lagging partition can precede any more; the read positions stored
        with the state stop at the first input still held."""
        aligner = self.aligner
        if aligner is None:
            return batch.accepted
        items = aligner.align(batch.accepted, batch.frontier, behind, ticket)
        metrics.EVENTS_HELD.set(aligner.holding)
        self.runtime.hold_back(aligner.unapplied_from(), aligner.held_accounts)
        return items

    @property
    def holding(self) -> bool:
        """Whether inputs are held for alignment (``release``)."""
        return bool(self.aligner and self.aligner.holding)

    async def release(self, behind: Behind) -> None:
        """Apply the held inputs that may go now (no batch came to do it)."""
        await self.handle([], persist=False, behind=behind)

    def drop_held(self) -> set[int]:
        """Forget the held inputs, unapplied (a rebalance or a shutdown: they
        are read again from the committed offsets); the partitions they were of."""
        if self.aligner is None:
            return set()
        dropped = self.aligner.drop()
        metrics.EVENTS_HELD.set(0)
        self.runtime.hold_back({})
        return dropped

    @staticmethod
    def _wake_budget(items: list[Accepted], batch_seconds: float) -> float:
        """How long deferred wakes may run after this batch: as long as the
        batch took (at least ``MIN_WAKE_SLICE_SECONDS``) while the worker keeps
        up, one step (``Runtime.catch_up``) when its inputs had waited over
        ``BEHIND_SECONDS`` in Kafka. Measured at 5k events/s over 50k accounts
        across a midnight: with the equal share alone the wakes took half the
        loop while events, each paying for its own account's wake too, fell
        further behind for ten seconds."""
        oldest = min(
            (item.ingested_at for item in items if item.ingested_at is not None),
            default=None,
        )
        if oldest is not None and time.time() - oldest > BEHIND_SECONDS:
            return 0.0
        return max(MIN_WAKE_SLICE_SECONDS, batch_seconds)

    @property
    def overdue(self) -> bool:
        """Whether deferred wakes wait for ``catch_up``."""
        return self.runtime.overdue

    async def catch_up(self, budget_s: float | None) -> int:
        """Fire deferred wakes for about ``budget_s`` seconds (all with None)
        and hand their outputs to the producer.

        At an event-time midnight every recently active account wakes: at
        50k accounts, 2-7 s of scoring. Fired all before the first batch past
        midnight, that was how long every event then waited. Deferred, each
        account still wakes before its own next event (``PartitionEngine.
        process``), and the rest wake here, a slice after each batch (as long
        as the batch took, at least ``MIN_WAKE_SLICE_SECONDS``), or in the
        idle timer's slices. A wake is fired at its own due time, so its
        outputs and ids are those of an on-time wake; they just leave later."""
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        woken = self.runtime.catch_up(deadline)
        if woken:
            await self.sink.send(_records(woken))
            await self.sink.ship_all()
            _observe(woken, None)
        return len(woken)

    async def persist(self) -> int:
        """Write every pending and dirty account now; hand the records to the producer."""
        self.begin_persist()
        return await self.persist_slice(None)

    def begin_persist(self) -> None:
        """Take the dirty accounts as pending writes, for ``persist_slice``."""
        for slot in self.runtime.take_dirty():
            self._pending[slot] = None

    @property
    def persisting(self) -> bool:
        """Whether accounts taken by ``begin_persist`` are still unwritten."""
        return bool(self._pending)

    async def persist_slice(self, budget_s: float | None) -> int:
        """Write pending accounts for about ``budget_s`` seconds (all of them
        with None): a large persist spread over many batches does not stall
        the batches between. A budgeted slice waits (returns 0) until the
        previous slice is delivered: measured at 50k accounts and 5k events/s,
        writing faster than the producer drains queued every output behind
        megabytes of changelog, ~1.7 s of added latency. Each account is
        written as it is *now*, which may include later batches' changes, so
        the slice first waits until every output shipped so far is delivered
        (one round trip: the batch before it shipped its outputs): handed to
        the producer is not enough, a changelog record can reach Kafka before
        an output sent earlier to another partition, and after a kill -9 the
        new owner would take the inputs as done and never send their outputs.
        A failed delivery raises here, before any state that includes it."""
        if budget_s is not None and not self.sink.delivered(self._slice_shipped):
            return 0  # the last slice is still on its way: let outputs pass first
        if self._pending:
            await self.sink.wait_delivered(self.sink.shipped)
        records = self._write_pending(None if budget_s is None else time.perf_counter() + budget_s)
        if records:
            await self.sink.send(records)
            await self.sink.ship_all()
            self._slice_shipped = self.sink.shipped
        return len(records)

    async def tick(self, now: float | None = None, *, persist: bool = True) -> None:
        """Advance to wall-clock time (``now``, by default the horizon's guarded
        wall clock, ``streams.processing.horizon``). With ``persist=False`` the
        changed state stays dirty for the next ``begin_persist``; with
        ``spread_wakes`` only the clock moves, and the wakes now due follow
        in ``catch_up`` slices."""
        if now is None:
            now = self.horizon.now()
        outputs = self.runtime.tick(now, defer_wakes=self.spread_wakes)
        records = self._persist() if persist else []
        records.extend(_records(outputs))
        if records:
            await self.sink.send(records)
            await self.sink.ship_all()
        _observe(outputs, None)

    def _persist(self) -> list[Record]:
        """Every pending and dirty account's records, for the caller to send."""
        self.begin_persist()
        return self._write_pending(None)

    def _write_pending(self, deadline: float | None) -> list[Record]:
        """Write pending accounts (until ``deadline``, a ``perf_counter`` time,
        if given) and return their records."""
        pending = self._pending
        records: list[Record] = []
        runtime, write = self.runtime, self.write_state
        while pending:
            for _ in range(min(_SLICE_STEP, len(pending))):
                (partition, account_id), _ = pending.popitem()
                stored = runtime.stored_form(partition, account_id)
                if stored is not None:  # else revoked: the new owner has it
                    records.extend(write(stored[0], partition, stored[1]))
            if deadline is not None and time.perf_counter() >= deadline:
                break
        return records

    def _count_inputs(self, batch: DecodedBatch, records: list[Record]) -> None:
        for topic, count in batch.consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic).inc(count)
        for reject in batch.rejected:
            metrics.EVENTS_REJECTED.labels(reject.topic, reject.kind).inc()
            records.append((topics.DEADLETTER, reject.key or b"", reject.value))
            # Where it came from and why, never the payload: it may hold personal data.
            log.warning(
                "input dead-lettered",
                extra={
                    "topic": reject.topic,
                    "partition": reject.partition,
                    "offset": reject.offset,
                    "reason_kind": reject.kind,
                    "reason": reject.reason,
                    "account_id": reject.key.decode(errors="replace") if reject.key else None,
                },
            )
            self.limit.record(False)
        self.limit.record_valid(len(batch.accepted))
        for code, count in decline_codes(item.event for item in batch.accepted).items():
            metrics.PAYMENT_FAILURES.labels(code).inc(count)


#: Accounts written between two looks at the clock in ``persist_slice``.
_SLICE_STEP = 64

#: The least time a batch gives to deferred wakes (``catch_up``): with small
#: batches, a midnight's 50k wakes would otherwise trail on for minutes.
MIN_WAKE_SLICE_SECONDS = 0.02

#: Inputs older than this (since their Kafka append) mean the worker is behind:
#: deferred wakes then get one step per batch, events go first. Well under the
#: 250 ms p99 target, not at it: at 0.25 s the wakes backed off only once events
#: had already waited the whole budget, and across a midnight at 5k events/s
#: over 50k accounts p99 was 255-358 ms; at 0.1 s it was 127-140 ms, the wakes
#: done within a second as soon (docs/bench-history.md, "Midnight"). Steady
#: inputs are 20-60 ms old here, so this only bites while wakes are overdue.
BEHIND_SECONDS = 0.1


def _observe(records: Sequence[Emit], ingested: Mapping[str, float] | None) -> None:
    """Count outputs and time them: ``event`` clock from the cause's event time,
    ``ingest`` clock from the Kafka append time of the account's newest input
    in the batch (our own delay, meaningful during replays too). One metric
    update per kind and histogram per batch (``metrics.observe_many``)."""
    if not records:
        return
    now = time.time()
    kinds: dict[tuple[str, str], int] = {}
    delays: tuple[list[float], list[float], list[float], list[float]] = ([], [], [], [])
    for record in records:
        topic = record.topic
        if topic == topics.LIFECYCLE or topic == topics.TOUCHPOINTS:
            continue  # an account churning is an outcome, not a score or an alert
        kinds[topic, record.kind] = kinds.get((topic, record.kind), 0) + 1
        if topic == topics.DUNNING:
            continue
        by_event, by_ingest = (0, 1) if topic == topics.HEALTH else (2, 3)
        delays[by_event].append(max(0.0, now - record.caused_at))
        appended = ingested.get(record.key.decode()) if ingested else None
        if appended is not None:
            delays[by_ingest].append(max(0.0, now - appended))
    for (topic, kind), count in kinds.items():
        if topic == topics.DUNNING:
            metrics.DUNNING_STEPS.labels(kind).inc(count)
        elif topic == topics.HEALTH:
            metrics.HEALTH_CHANGES.inc(count)
        else:
            metrics.ALERTS_EMITTED.labels(kind).inc(count)
    for child, amounts in zip(_LATENCY_CHILDREN, delays, strict=True):
        metrics.observe_many(child, amounts)


#: The latency histograms' children in the order of ``_observe``'s ``delays`` (score:
#: event, ingest; alert: event, ingest), bound once: ``labels()`` takes a lock and
#: a dict lookup, per output record otherwise.
_LATENCY_CHILDREN = tuple(
    family.labels(clock)
    for family in (metrics.EVENT_TO_SCORE_SECONDS, metrics.EVENT_TO_ALERT_SECONDS)
    for clock in ("event", "ingest")
)


def _records(outputs: Iterable[Emit]) -> list[Record]:
    """The sink's records of output events, with their binding's headers."""
    return [(o.topic, o.key, o.value, o.headers) for o in outputs]


def _append_times(items: list[Accepted]) -> dict[str, float]:
    """Each account's newest Kafka append time in the batch, by account id (not
    the output key: encoding every input's id cost more than decoding the
    keys of the outputs, a quarter as many)."""
    newest: dict[str, float] = {}
    get = newest.get
    for _, event, appended in items:
        if appended is not None and appended > get(event.account_id, 0.0):
            newest[event.account_id] = appended
    return newest


def _duplicates(runtime: Runtime) -> int:
    return sum(engine.counts.duplicates for engine in runtime.engines.values())
