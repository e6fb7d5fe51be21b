"""``healthscore readmodel rebuild``: put the read model and the subscriptions
back into Redis from Kafka, after Redis lost them (emptied, replaced, restored
from an old backup).

Every partition of the projector's topics and of ``cs.subscriptions.v1`` is read
from its beginning to the end offset captured at start, with no consumer group
(the projector's committed offsets are left alone), and written through the
projector's own code (``projector.project``): the same plans, the same Lua
compare-and-set scripts, so a record already in Redis changes nothing and a
rebuild may run beside the live projector, twice, or be interrupted and run
again. Subscriptions are written as the API writes them, their webhook secrets
opened with ``HEALTHSCORE_SUBSCRIPTION_KEYS``; a tombstone deletes.

What Kafka no longer holds cannot come back: alerts older than the alerts
topic's retention, and the notifier's delivery queue (in-flight retries and
dead deliveries live only in Redis, which runs with an append-only file).
Alert cursors (stream ids) are new after a rebuild; an SSE client resuming
with an old ``Last-Event-ID`` is sent the feed again (ids de-duplicate).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from redis.asyncio import Redis

from schemas import topics
from services.readmodel.projector import READ_MODEL_TOPICS, project
from services.readmodel.settings import ReadModelSettings
from services.readmodel.store import ReadModelStore, StoreLimits
from services.readmodel.subscription_log import REDIS_KEY, SealError, SecretSealer, from_record
from services.stack.topics import partition_counts
from streams.worker.kafka_security import client_kwargs, start_client

REBUILD_TOPICS = (*READ_MODEL_TOPICS, topics.SUBSCRIPTIONS)


class RebuildError(RuntimeError):
    """The rebuild cannot start or cannot finish; the message says what to fix."""


@dataclass
class RebuildReport:
    """What a rebuild read and did; ``unreadable`` names subscriptions left out."""

    total: int = 0
    read: int = 0
    outcome: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.outcome.items()))
        return f"rebuilt from {self.read:,} records in {self.seconds:.1f} s: {counts or 'nothing'}"


Say = Callable[[str], None]


async def rebuild(
    settings: ReadModelSettings,
    sealer: SecretSealer | None,
    say: Say,
    *,
    progress_every_s: float = 2.0,
    stall_timeout_s: float = 60.0,
    tail_s: float = 5.0,
) -> RebuildReport:
    """Rebuild Redis from Kafka; ``say`` gets the progress lines."""
    started = time.monotonic()
    started_ms = int(time.time() * 1000)
    redis = Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=5)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        # The fetcher resolves a position for each partition as soon as it is
        # assigned; "earliest" makes that the beginning too, whatever wins the
        # race with the explicit seek below.
        auto_offset_reset="earliest",
        **client_kwargs(settings),
    )
    try:
        await _check_redis(redis, settings.redis_url)
        await _start(consumer, settings)
        spans = await _assign_from_beginning(consumer, settings)
        report = RebuildReport(total=sum(len(span) for span in spans.values()))
        say(f"reading {report.total:,} offsets of {len(REBUILD_TOPICS)} topics from the beginning")
        store = ReadModelStore(redis, StoreLimits(alerts_maxlen=settings.alerts_maxlen))
        reader = _Reader(consumer, spans, settings.batch_max_records, stall_timeout_s)
        last_said = time.monotonic()
        while (records := await reader.next_batch()) is not None:
            await _apply(store, redis, sealer, records, report)
            report.read += len(records)
            if time.monotonic() - last_said >= progress_every_s:
                say(f"{reader.position():,} of {report.total:,} offsets ({report.read:,} records)")
                last_said = time.monotonic()
        reader.start_tail()
        tail_until = time.monotonic() + tail_s
        while records := await reader.tail_batch(started_ms, tail_until):
            await _apply(store, redis, sealer, records, report)
            report.read += len(records)
        report.seconds = time.monotonic() - started
        return report
    finally:
        await consumer.stop()
        await redis.aclose()


async def _check_redis(redis: Redis, url: str) -> None:
    from redis.exceptions import RedisError

    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise RebuildError(f"Redis at {_redacted(url)} does not answer: {exc}") from None


def _redacted(url: str) -> str:
    """The URL without its password (REDIS_URL may carry one)."""
    head, at, tail = url.rpartition("@")
    return f"{head.split('//')[0]}//***@{tail}" if at else url


async def _start(consumer: AIOKafkaConsumer, settings: ReadModelSettings) -> None:
    from aiokafka.errors import KafkaError

    try:
        await start_client(consumer, settings.kafka_bootstrap_servers, settings)
    except KafkaError as exc:
        raise RebuildError(
            f"Kafka at {settings.kafka_bootstrap_servers} does not answer: {exc}"
        ) from None


async def _assign_from_beginning(
    consumer: AIOKafkaConsumer, settings: ReadModelSettings
) -> dict[TopicPartition, range]:
    """Assign every partition and seek to its beginning; the offsets to read per
    partition, up to its end now (partitions with none, empty spans, are paused)."""
    counts = await partition_counts(settings.kafka_bootstrap_servers, REBUILD_TOPICS, settings)
    missing = [topic for topic in REBUILD_TOPICS if topic not in counts]
    if missing:
        raise RebuildError(
            f"topic {missing[0]} does not exist on this broker: create the contract topics "
            "(healthscore stack, or deploy/kafka/create-topics.sh) and point "
            "KAFKA_BOOTSTRAP_SERVERS at the cluster the pipeline writes to"
        )
    partitions = [TopicPartition(t, p) for t in REBUILD_TOPICS for p in range(counts[t])]
    consumer.assign(partitions)
    begin = await consumer.beginning_offsets(partitions)
    end = await consumer.end_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, begin[tp])
    spans = {tp: range(begin[tp], end[tp]) for tp in partitions}
    consumer.pause(*[tp for tp, span in spans.items() if not span])
    return spans


class _Reader:
    """Batches of records inside each partition's span, then None; then the tail.

    A partition is done when the consumer's position reaches the span's end
    (compaction may leave gaps, so the last record's offset is not the test).
    The tail is what lies past the ends but was written before the rebuild
    began: a broker that reports end offsets short (Tansu leaves out a
    partition's last batch) still holds it; on Apache Kafka one empty fetch
    ends it."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        spans: dict[TopicPartition, range],
        max_records: int,
        stall_timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._spans = spans
        self._left = {tp for tp, span in spans.items() if span}
        self._max_records = max_records
        self._stall_timeout_s = stall_timeout_s
        self._done_offsets: dict[TopicPartition, int] = {}

    def position(self) -> int:
        """Offsets passed so far, over every partition."""
        return sum(self._done_offsets.values())

    async def next_batch(self) -> list[ConsumerRecord[bytes, bytes]] | None:
        waited_since = time.monotonic()
        while self._left:
            fetched = await self._consumer.getmany(timeout_ms=1000, max_records=self._max_records)
            batch = [r for tp, rs in fetched.items() for r in rs if r.offset in self._spans[tp]]
            for tp in fetched:
                await self._advance(tp)
            if batch:
                return batch
            if time.monotonic() - waited_since > self._stall_timeout_s:
                raise RebuildError(
                    f"no record for {self._stall_timeout_s:.0f} s with {len(self._left)} "
                    f"partitions unfinished (e.g. {min(self._left)}): is the broker healthy?"
                )
        return None

    def start_tail(self) -> None:
        for tp, span in self._spans.items():
            self._consumer.seek(tp, span.stop)
        self._consumer.resume(*self._spans)

    async def tail_batch(self, started_ms: int, until: float) -> list[ConsumerRecord[bytes, bytes]]:
        """The next records past the ends stamped before ``started_ms``; empty
        once a fetch finds nothing at all, or at ``until`` (monotonic): later
        records are the live projector's."""
        while time.monotonic() < until and (
            fetched := await self._consumer.getmany(timeout_ms=500, max_records=self._max_records)
        ):
            batch = [r for rs in fetched.values() for r in rs if r.timestamp <= started_ms]
            if batch:
                return batch
        return []

    async def _advance(self, tp: TopicPartition) -> None:
        span = self._spans[tp]
        position = min(await self._consumer.position(tp), span.stop)
        self._done_offsets[tp] = position - span.start
        if position >= span.stop and tp in self._left:
            self._left.discard(tp)
            self._consumer.pause(tp)


async def _apply(
    store: ReadModelStore,
    redis: Redis,
    sealer: SecretSealer | None,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    report: RebuildReport,
) -> None:
    model = [r for r in records if r.topic != topics.SUBSCRIPTIONS]
    if model:
        report.outcome.update(await project(store, model))
    subscriptions = [r for r in records if r.topic == topics.SUBSCRIPTIONS]
    if subscriptions:
        await _restore_subscriptions(redis, sealer, subscriptions, report)


async def _restore_subscriptions(
    redis: Redis,
    sealer: SecretSealer | None,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    report: RebuildReport,
) -> None:
    """Apply creates and tombstones in offset order (one partition per id)."""
    pipe = redis.pipeline(transaction=False)
    for record in records:
        sub_id = record.key.decode(errors="replace") if record.key else "?"
        if record.value is None:
            pipe.hdel(REDIS_KEY, sub_id)
            report.outcome["subscription deleted"] += 1
            continue
        try:
            stored = from_record(record.value, sealer)
        except SealError as exc:
            report.unreadable.append(f"{sub_id}: {exc}")
            continue
        pipe.hset(REDIS_KEY, stored["id"], orjson.dumps(stored))
        report.outcome["subscription"] += 1
    await pipe.execute()
