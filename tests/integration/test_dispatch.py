"""The dispatcher against a real Kafka-protocol broker (a fresh Tansu, as the
dispatcher reads the fixed contract topic names) and the session Redis.

Checks that each matching subscription gets exactly one delivery per event,
also when a dispatcher re-reads the topic from the start (as after a crash
between enqueueing and committing offsets).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from schemas import topics
from services.notifier.dispatch import KafkaConfig, run_dispatcher
from services.notifier.model import Subscription
from services.notifier.queue import STREAM, DeliveryQueue
from services.notifier.subscriptions import SUBSCRIPTIONS, SubscriptionCache
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce
from tests.integration.notifier_support import redis
from tests.polling import eventually
from tests.unit.notifier.factories import (
    event_bytes,
    make_alert,
    make_subscription,
    subscription_json,
)

__all__ = ["redis"]  # fixture used below

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def produce_alerts(bootstrap: str, events: list[bytes]) -> None:
    """Each CloudEvent to the alerts topic, keyed by its subject (the account)."""
    records = [(topics.ALERTS, orjson.loads(raw)["subject"].encode(), raw) for raw in events]
    await produce(bootstrap, records)


@contextlib.asynccontextmanager
async def dispatching(bootstrap: str, redis: Redis, group: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    config = KafkaConfig(bootstrap, group_id=group, offset_reset="earliest")
    cache = SubscriptionCache(redis, 0.1, time.monotonic)
    task = asyncio.create_task(run_dispatcher(config, DeliveryQueue(redis), cache, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def queued(redis: Redis) -> Counter[str]:
    entries = await redis.xrange(STREAM)
    return Counter(fields[b"delivery_id"].decode() for _id, fields in entries)


def alerts() -> list[bytes]:
    """10 alerts: even accounts enterprise, odd smb; the first three with big ARR."""
    return [
        event_bytes(
            make_alert(
                f"a-{i}",
                f"acct-{i}",
                segment="enterprise" if i % 2 == 0 else "smb",
                arr_cents=100_000_000 if i < 3 else 1_000_000,
            )
        )
        for i in range(10)
    ]


def expected_ids(subs: list[Subscription], event_ids: list[str]) -> set[str]:
    by_sub = {
        "sub_all": event_ids,
        "sub_ent": [e for e in event_ids if int(e.split("-")[1]) % 2 == 0],
        "sub_big": [e for e in event_ids if int(e.split("-")[1]) < 3],
    }
    return {f"{e}:{s.id}" for s in subs for e in by_sub.get(s.id, [])}


async def test_each_match_enqueued_exactly_once_across_re_reads(
    fresh_tansu_bootstrap: str, redis: Redis
) -> None:
    subs = [
        make_subscription("sub_all", types=["io.healthscore.alert."]),
        make_subscription("sub_ent", segments=["enterprise"]),
        make_subscription("sub_big", min_arr_cents=50_000_000),
        make_subscription("sub_dun", types=["io.healthscore.dunning."]),
        make_subscription("sub_off", active=False),
    ]
    for sub in subs:
        await redis.hset(SUBSCRIPTIONS, sub.id, subscription_json(sub))
    await ensure_topics(fresh_tansu_bootstrap, 1, [topics.ALERTS, topics.DUNNING])
    await produce_alerts(fresh_tansu_bootstrap, alerts())
    expected = expected_ids(subs, [f"a-{i}" for i in range(10)])
    assert len(expected) == 18

    async with dispatching(fresh_tansu_bootstrap, redis, "notifier-test-1"):
        await eventually(lambda: _has(redis, expected), 60, what="first dispatch")

    # A new group starts from the beginning: every event is read a second time.
    # A sentinel produced after the re-read tells us the old events were processed.
    sentinel = make_alert("s-1", "acct-s", alert="inactivity", segment="smb", arr_cents=1_000_000)
    async with dispatching(fresh_tansu_bootstrap, redis, "notifier-test-2"):
        await produce_alerts(fresh_tansu_bootstrap, [event_bytes(sentinel)])
        await eventually(lambda: _has(redis, {"s-1:sub_all"}), 60, what="sentinel")

    counts = await queued(redis)
    assert set(counts) == expected | {"s-1:sub_all"}
    assert max(counts.values()) == 1


async def _has(redis: Redis, wanted: set[str]) -> bool:
    return wanted <= set(await queued(redis))
