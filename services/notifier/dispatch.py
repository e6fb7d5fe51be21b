"""The dispatcher: Kafka output topics in, one queued delivery per match out.

Offsets are committed only after the batch's deliveries are in Redis, so a
crash re-reads rather than loses; the re-read enqueues nothing twice because
each enqueue is guarded by ``SET NX`` on ``delivery_id`` (``queue.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import CommitFailedError

from schemas import topics
from services.notifier import metrics
from services.notifier.matching import plan_deliveries
from services.notifier.model import NewDelivery, Subscription
from services.notifier.queue import DeliveryQueue
from services.notifier.relevance import DEFAULT_BANDS
from services.notifier.subscriptions import SubscriptionCache
from streams.domain.scoring.model import BandThresholds
from streams.worker.kafka_security import KafkaSecurity, client_kwargs, start_client

log = logging.getLogger(__name__)

#: Health changes are filtered to band changes (``relevance.py``) for CRM sync;
#: touchpoints and lifecycle changes are routed like alerts (owner, segment, ARR).
TOPICS = (topics.ALERTS, topics.DUNNING, topics.HEALTH, topics.TOUCHPOINTS, topics.LIFECYCLE)


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    bootstrap_servers: str
    group_id: str = "healthscore-notifier"
    offset_reset: str = "earliest"
    security: KafkaSecurity | None = None
    max_records: int = 500
    #: The scoring model's bands: what counts as a band change of a health event.
    bands: BandThresholds = DEFAULT_BANDS


def plan_batch(
    records: list[ConsumerRecord[bytes, bytes]],
    subscriptions: list[Subscription],
    bands: BandThresholds = DEFAULT_BANDS,
) -> list[NewDelivery]:
    planned: list[NewDelivery] = []
    for record in records:
        if record.value is None:
            continue  # a tombstone on the compacted health topic: nothing happened
        try:
            planned += plan_deliveries(record.value, subscriptions, bands)
        except (ValueError, orjson.JSONDecodeError):
            # Our own worker wrote it; count and move on rather than block the partition.
            metrics.DISPATCH_INVALID.labels(record.topic).inc()
            log.error(
                "unroutable event at %s[%d]@%d", record.topic, record.partition, record.offset
            )
    return planned


async def enqueue_planned(queue: DeliveryQueue, planned: list[NewDelivery]) -> int:
    created = await queue.enqueue(planned, time.time())
    for item, is_new in zip(planned, created, strict=True):
        if is_new:
            metrics.DISPATCH_MATCHED.labels(item.event_type).inc()
    return sum(created)


async def run_dispatcher(
    config: KafkaConfig, queue: DeliveryQueue, cache: SubscriptionCache, stop: asyncio.Event
) -> None:
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=config.bootstrap_servers,
        group_id=config.group_id,
        enable_auto_commit=False,
        auto_offset_reset=config.offset_reset,
        **client_kwargs(config.security),
    )
    await start_client(consumer, config.bootstrap_servers, config.security)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=config.max_records)
            if not batches:
                continue
            subscriptions = await cache.all()
            records = [r for batch in batches.values() for r in batch]
            await enqueue_planned(queue, plan_batch(records, subscriptions, config.bands))
            try:
                await consumer.commit()
            except CommitFailedError:
                # Rebalanced meanwhile: the new owner re-reads; SET NX keeps it single.
                log.warning("offset commit failed after a rebalance; batch will be re-read")
    finally:
        await consumer.stop()
