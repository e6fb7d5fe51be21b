"""The projector: Kafka output topics in, Redis read model out.

At-least-once: a batch is fetched with ``getmany``, planned (pure), written in
one Redis pipeline, and only then are the offsets committed. A crash between
the write and the commit replays the batch, which the store's compare-and-set
and alert de-duplication turn into no-ops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import Counter
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from prometheus_client import start_http_server

from schemas import topics
from schemas.errors import InvalidEventError
from services.readmodel.metrics import READMODEL_RECORDS, READMODEL_UPDATES
from services.readmodel.ops import (
    Op,
    PutAlert,
    PutDunning,
    PutHealth,
    PutHistory,
    PutLifecycle,
    PutPayment,
    PutProfile,
    PutTimeline,
)
from services.readmodel.plan import plan_record
from services.readmodel.settings import ReadModelSettings
from services.readmodel.store import ReadModelStore, StoreLimits
from services.redis_client import restart_tolerant_redis
from streams.worker.kafka_security import client_kwargs, start_client

log = logging.getLogger(__name__)

#: Output topics, plus two inputs: account profiles (plan, industry, renewal date
#: for filters and the account page) and billing (payment attempts for the
#: payment-failure rate). Both are validated here too; a reject is skipped.
READ_MODEL_TOPICS = (
    topics.HEALTH,
    topics.ALERTS,
    topics.DUNNING,
    topics.TOUCHPOINTS,
    topics.LIFECYCLE,
    topics.ACCOUNTS,
    topics.BILLING,
)
_KIND: dict[type, tuple[str, str]] = {  # (applied, skipped) outcome per op
    PutHealth: ("health", "stale"),
    PutAlert: ("alert", "duplicate"),
    PutDunning: ("dunning", "stale"),
    PutHistory: ("history", "stale"),
    PutTimeline: ("timeline", "duplicate"),
    PutLifecycle: ("lifecycle", "duplicate"),
    PutProfile: ("profile", "stale"),
    PutPayment: ("payment", "duplicate"),
}


def plan_batch(records: Iterable[ConsumerRecord[bytes, bytes]]) -> tuple[list[Op], Counter[str]]:
    """The writes for a batch, and counts of records that need none."""
    ops: list[Op] = []
    skipped: Counter[str] = Counter()
    for record in records:
        try:
            planned = plan_record(record.topic, record.value)
        except InvalidEventError as exc:
            # Our own worker wrote it; log and count rather than stall the read model.
            log.warning(
                "unreadable record %s[%d]@%d: %s",
                record.topic,
                record.partition,
                record.offset,
                exc.reason,
                extra={"topic": record.topic, "partition": record.partition,
                       "offset": record.offset, "reason": exc.reason},
            )  # fmt: skip
            skipped["invalid"] += 1
            continue
        if not planned:
            skipped["ignored"] += 1
        ops += planned
    return ops, skipped


async def project(
    store: ReadModelStore, records: list[ConsumerRecord[bytes, bytes]]
) -> Counter[str]:
    """Plan and write one batch; the outcome counts per kind."""
    ops, outcome = plan_batch(records)
    for op, changed in zip(ops, await store.apply_ops(ops), strict=True):
        applied, skipped = _KIND[type(op)]
        outcome[applied if changed else skipped] += 1
    for kind, n in outcome.items():
        READMODEL_UPDATES.labels(kind=kind).inc(n)
    for topic, n in Counter(r.topic for r in records).items():
        READMODEL_RECORDS.labels(topic=topic).inc(n)
    return outcome


def make_consumer(settings: ReadModelSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *READ_MODEL_TOPICS,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Short timeouts: the first group join takes seconds, not half a minute.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        rebalance_timeout_ms=5_000,
        **client_kwargs(settings),
    )


async def run(settings: ReadModelSettings, stop: asyncio.Event | None = None) -> None:
    """Project until ``stop`` is set (or SIGINT/SIGTERM when run as a process)."""
    stop = stop or _stop_on_signals()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    redis = restart_tolerant_redis(settings.redis_url, decode_responses=True)
    store = ReadModelStore(redis, StoreLimits(alerts_maxlen=settings.alerts_maxlen))
    consumer = make_consumer(settings)
    await start_client(consumer, settings.kafka_bootstrap_servers, settings)
    log.info("projecting %s into %s", ", ".join(READ_MODEL_TOPICS), settings.redis_url)
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=500, max_records=settings.batch_max_records)
            records = [r for batch in fetched.values() for r in batch]
            if records:
                await project(store, records)
                await consumer.commit()
    finally:
        await consumer.stop()
        await redis.aclose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
