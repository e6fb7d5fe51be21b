"""A backtest history read straight from the input topics, over an event-time range.

Every partition of the five input topics (``schemas.topics.INPUT_TOPICS``) is
read from the first record stamped at or after ``since`` minus the worker's
future-time tolerance (``offsets_for_times``; a record stamped earlier holds an
event the worker would have taken as before ``since``) up to the end offsets
taken when reading starts - records produced meanwhile are not waited for,
so the read always ends. A partition also ends early once its events run
``lateness_s`` past ``until`` (partitions are in event-time order but for
late events; a late event later than that is missed, and is counted in no
figure). Records are decoded by the worker's own decoder; an undecodable
one is counted and named in the summary, never fatal. The partitions are
merged into event-time order by :class:`~services.backtest.merge.EventTimeMerge`,
which bounds memory; the events are handed on one at a time, so a long
history is never held whole.

Kafka timestamps are only used to *find* the start; which events count is
decided by their event time (:class:`~services.backtest.window.Window`), so a
topic backfilled today (every record stamped today) gives the same range as
one produced live, only read from further back.

Broker caveat: Tansu, the embedded dev broker, reports high-water marks short
(``services.stack.tansu``), so against it the newest records can be missed;
a backtest is meant for a real cluster (Apache Kafka or compatible).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from schemas.errors import InvalidEventError
from schemas.topics import INPUT_TOPICS
from services.backtest import DEFAULT_LATENESS_S
from services.backtest.merge import DEFAULT_MAX_BUFFERED, EventTimeMerge
from services.backtest.run import BacktestError
from services.backtest.window import Window
from services.replay import ReplaySummary, future_tolerance_s
from streams.domain.events import DomainEvent
from streams.processing.decode import decode_domain
from streams.worker.kafka_security import KafkaLoginError, KafkaSecurity, client_kwargs

Progress = Callable[[str], None]
Record: TypeAlias = ConsumerRecord[bytes, bytes]

#: A read that gets no record for this long while partitions remain fails.
IDLE_TIMEOUT_S = 60.0
_PROGRESS_EVERY_S = 5.0
_FETCH_MS = 500


@dataclass
class ReadStats:
    """What the read saw, beside the events it handed on."""

    partitions: int = 0
    to_read: int = 0
    """Records between the start and end offsets (a bound: a partition may end early)."""
    records: int = 0
    outside: int = 0
    forced: int = 0
    held: int = 0
    """The most events the merge held back at once (memory: a few hundred bytes each)."""


@dataclass(frozen=True)
class KafkaSource:
    """The input topics at ``bootstrap`` (TLS/SASL from ``security``)."""

    bootstrap: str
    security: KafkaSecurity | None = None
    topics: Sequence[str] = INPUT_TOPICS
    lateness_s: int = DEFAULT_LATENESS_S
    max_buffered: int = DEFAULT_MAX_BUFFERED
    idle_timeout_s: float = IDLE_TIMEOUT_S

    def describe(self) -> str:
        return f"{len(self.topics)} input topics at {self.bootstrap}"

    def events(
        self, window: Window, summary: ReplaySummary, progress: Progress | None = None
    ) -> Generator[DomainEvent, None, None]:
        """The range's events in event-time order. Drives its own asyncio loop, so
        a synchronous caller (``history.collect``) pulls them as it goes."""
        loop = asyncio.new_event_loop()
        reader: _Reader | None = None
        try:
            reader = loop.run_until_complete(_Reader.make(self, window, summary, progress))
            loop.run_until_complete(reader.open())
            while (batch := loop.run_until_complete(reader.next_batch())) is not None:
                yield from batch
        finally:
            if reader is not None:
                loop.run_until_complete(reader.close())
            loop.close()


class _Reader:
    @classmethod
    async def make(
        cls,
        source: KafkaSource,
        window: Window,
        summary: ReplaySummary,
        progress: Progress | None,
    ) -> _Reader:
        return cls(source, window, summary, progress)

    def __init__(
        self,
        source: KafkaSource,
        window: Window,
        summary: ReplaySummary,
        progress: Progress | None,
    ) -> None:
        self.source = source
        self.window = window
        self.summary = summary
        self.stats = ReadStats()
        self.progress = progress
        # Made in the loop (``make``): aiokafka binds a client to the running loop.
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=source.bootstrap,
            client_id="healthscore-backtest",
            enable_auto_commit=False,
            **client_kwargs(source.security),
        )
        self.stop_at: dict[TopicPartition, int] = {}
        self.assigned: set[TopicPartition] = set()
        self.merge: EventTimeMerge[TopicPartition] = EventTimeMerge(())
        self.paused: set[TopicPartition] = set()
        self.last_record = time.monotonic()
        self.last_report = time.monotonic()

    async def open(self) -> None:
        from services.stack.topics import partition_counts
        from streams.worker.kafka_security import start_client

        source = self.source
        try:
            await start_client(self.consumer, source.bootstrap, source.security)
            # All topics' metadata: asking for the input topics by name would
            # create them on a broker that auto-creates topics.
            existing = await self.consumer.topics()
            missing = [t for t in source.topics if t not in existing]
            if missing:
                raise BacktestError(
                    f"no topic {', '.join(missing)} at {source.bootstrap}: the backtest reads "
                    f"the input topics {', '.join(source.topics)}"
                )
            counts = await partition_counts(source.bootstrap, source.topics, source.security)
        except KafkaLoginError as exc:
            raise BacktestError(str(exc)) from None
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            raise BacktestError(f"cannot read from Kafka at {source.bootstrap}: {exc}") from None
        tps = [TopicPartition(t, p) for t in source.topics for p in range(counts[t])]
        self.consumer.assign(tps)
        starts, ends = await self._offsets(tps)
        for tp in tps:
            self.consumer.seek(tp, starts[tp])
        self.stop_at = {tp: ends[tp] for tp in tps if starts[tp] < ends[tp]}
        self.merge = EventTimeMerge(self.stop_at, source.max_buffered)
        self.assigned = set(tps)
        self.stats.partitions = len(tps)
        self.stats.to_read = sum(ends[tp] - starts[tp] for tp in self.stop_at)
        self._pause(self.assigned - self.merge.active)
        if self.progress is not None:
            self.progress(
                f"reading {self.stats.to_read:,} records from {len(tps)} partitions "
                f"of {', '.join(source.topics)} at {source.bootstrap}"
            )

    async def _offsets(
        self, tps: list[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """Where each partition's read starts and ends (the end offsets as of now)."""
        ends: dict[TopicPartition, int] = await self.consumer.end_offsets(tps)
        since = self.window.since_s
        if since is None:
            starts: dict[TopicPartition, int] = await self.consumer.beginning_offsets(tps)
            return starts, ends
        stamp_ms = int((since - future_tolerance_s()) * 1000)
        found = await self.consumer.offsets_for_times(dict.fromkeys(tps, max(stamp_ms, 0)))
        return {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in tps}, ends

    async def close(self) -> None:
        await self.consumer.stop()

    async def next_batch(self) -> list[DomainEvent] | None:
        """The next events that can go out; None once every partition is read."""
        # The idle clock runs only while waiting here, not while the caller
        # works through the previous batch.
        self.last_record = time.monotonic()
        while self.merge.active:
            fetched = await self.consumer.getmany(timeout_ms=_FETCH_MS)
            for tp, records in fetched.items():
                if tp in self.merge.active:
                    self._take(tp, records)
            self.stats.held = max(self.stats.held, self.merge.buffered)
            if fetched:
                self.last_record = time.monotonic()
            else:
                await self._check_stalled()
            self._pause((self.assigned - self.merge.active) | self.merge.ahead())
            self._report()
            ready = list(self.merge.ready())
            if ready:
                return ready
        self.stats.forced = self.merge.forced
        rest = list(self.merge.ready())
        if rest:
            return rest
        self._report(final=True)
        return None

    def _take(self, tp: TopicPartition, records: list[Record]) -> None:
        stop = self.stop_at[tp]
        window = self.window
        late_limit = None if window.until_s is None else window.until_s + self.source.lateness_s
        for record in records:
            if record.offset >= stop:
                break
            self.stats.records += 1
            event = self._decode(record)
            if event is None:
                continue
            if window.before(event.at) or window.after(event.at):
                self.stats.outside += 1
                self.merge.seen(tp, event.at)
                if late_limit is not None and event.at.timestamp() >= late_limit:
                    self.merge.finish(tp)
                    return
                continue
            self.merge.add(tp, event)
        if records and records[-1].offset + 1 >= stop:
            self.merge.finish(tp)

    def _decode(self, record: Record) -> DomainEvent | None:
        try:
            if record.value is None:
                raise InvalidEventError("a record without a value", kind="invalid_value")
            return decode_domain(record.topic, record.value)
        except InvalidEventError as err:
            self.summary.rejected += 1
            if len(self.summary.first_rejects) < 10:
                self.summary.first_rejects.append(
                    f"{record.topic}[{record.partition}]@{record.offset}: {err.reason}"
                )
            return None

    async def _check_stalled(self) -> None:
        """An empty fetch: finish partitions whose position passed their end
        (the last offsets were not records, e.g. compacted away), fail if none
        has moved for ``idle_timeout_s``."""
        for tp in list(self.merge.active):
            position: int = await self.consumer.position(tp)
            if position >= self.stop_at[tp]:
                self.merge.finish(tp)
                self.last_record = time.monotonic()
        if self.merge.active and time.monotonic() - self.last_record > self.source.idle_timeout_s:
            stuck = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(self.merge.active))
            raise BacktestError(
                f"no record from {stuck} at {self.source.bootstrap} for "
                f"{self.source.idle_timeout_s:g} s, before their end offsets"
            )

    def _pause(self, wanted: set[TopicPartition]) -> None:
        """Pause ``wanted`` (finished, or ahead of the merge), resume the rest."""
        resume = self.paused - wanted
        pause = wanted - self.paused
        if resume:
            self.consumer.resume(*resume)
        if pause:
            self.consumer.pause(*pause)
        self.paused = set(wanted)

    def _report(self, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not final and now - self.last_report < _PROGRESS_EVERY_S:
            return
        self.last_report = now
        s = self.stats
        mark = self.merge.watermark()
        if final:
            self.progress(
                f"read {s.records:,} records: {s.outside:,} outside the range, "
                f"{self.summary.rejected:,} undecodable; at most {s.held:,} events held back "
                f"for the merge, {s.forced:,} let out past its cap"
            )
            for reason in self.summary.first_rejects:
                self.progress(f"  rejected {reason}")
            return
        at = "" if mark is None else f", event time {mark.astimezone(UTC):%Y-%m-%d}"
        share = s.records / max(s.to_read, 1)
        self.progress(f"  read {s.records:,} of {s.to_read:,} records ({share:.0%}){at}")


__all__ = ["KafkaSource", "ReadStats"]
