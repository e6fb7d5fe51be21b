"""Redis kill -9 and restart in the middle of webhook deliveries, on Apache Kafka.

The suite history's alert and dunning records (what replay emits) are on the
output topics; the notifier (dispatcher and a delivery worker) and the
read-model projector run as processes against a Redis with the stack's
persistence (append-only file, fsync on every write). Half the records are
produced, Redis is killed with SIGKILL once a quarter of the deliveries are
made, the other half is produced while it is down, and it is started again
on the same port and files. Then:

- every expected webhook delivery is made, verified by its signature: none
  lost; bodies are the records' exact bytes, none other (``Tally``); a delivery
  repeated with the same ``webhook-id`` is counted as *repeated* - those in
  flight at the kill, answered by the receiver but not marked done in Redis;
- the subscription, created through the API's store beforehand, is still there;
- the read model's alert feed holds every alert once.

Without the append-only file Redis comes back empty: the subscription and the
queued deliveries are gone, and the dispatcher has already committed its
offsets, so the deliveries after the restart are lost (this test fails).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from schemas import topics
from services.api import subscription_store
from services.api.models import SubscriptionCreate, SubscriptionFilters
from services.api.producer import KafkaEventProducer
from services.readmodel.subscription_log import SecretSealer
from services.stack.probe import run_sync
from services.stack.process import ServerProcess
from services.stack.redis import start_redis
from services.stack.topics import ensure_topics
from tests.api.support import SUBSCRIPTION_KEY
from tests.faults.conftest import PARTITIONS, History
from tests.faults.harness import COMPARED, ROOT, Row, Tally, record_row
from tests.integration.kafka_io import produce
from tests.integration.notifier_support import Receiver
from tests.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FAULT = "Redis kill -9 and restart (webhooks, read model, subscriptions)"
DOWN_S = 1.5


class RestartableRedis:
    """A Redis whose append-only file outlives a kill -9: restarted on the
    same port with the same data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server: ServerProcess = start_redis(data_dir=data_dir)
        self.port = self.server.port
        self.address = self.server.address

    def kill(self) -> None:
        self.server.popen.kill()
        self.server.popen.wait()
        self.server.stop()  # removes its log folder; the data directory stays

    def start(self) -> None:
        self.server = start_redis(port=self.port, data_dir=self.data_dir)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "redis-data")
    yield server
    server.stop()


def start(module: str, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=sink,
            stderr=sink,
        )


def pipeline_env(bootstrap: str, redis_url: str) -> dict[str, str]:
    n = "HEALTHSCORE_NOTIFIER_"
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REDIS_URL": redis_url,
        "HEALTHSCORE_LOG_LEVEL": "WARNING",
        "HEALTHSCORE_READMODEL_GROUP": "redis-fault-readmodel",
        "HEALTHSCORE_READMODEL_METRICS_PORT": "0",
        f"{n}GROUP_ID": "redis-fault-notifier",
        f"{n}METRICS_PORT": "0",
        f"{n}WORKERS": "1",
        f"{n}CONCURRENCY": "8",
        f"{n}RECLAIM_IDLE_MS": "3500",
        f"{n}RECLAIM_INTERVAL_SECONDS": "0.5",
        f"{n}SUBSCRIPTION_REFRESH_SECONDS": "0.5",
        f"{n}SCHEDULER_INTERVAL_SECONDS": "0.2",
        f"{n}RETRY_BASE_SECONDS": "0.2",
        f"{n}RETRY_CAP_SECONDS": "1",
        f"{n}TIMEOUT_SECONDS": "2",
    }


async def create_subscription(bootstrap: str, redis: Redis, target: str) -> tuple[str, str]:
    """Through the API's store (Kafka first, then Redis); (id, signing secret)."""
    producer = KafkaEventProducer(bootstrap, retry_seconds=0.2)
    producer.start()
    try:

        async def connected() -> bool:
            return await producer.check(2.0) is None

        await eventually(connected, 30, what="API producer connected")
        types = ["io.healthscore.alert.", "io.healthscore.dunning."]
        body = SubscriptionCreate(
            channel="webhook", target=target, filters=SubscriptionFilters(types=types)
        )
        sealer = SecretSealer.from_setting(SecretStr(SUBSCRIPTION_KEY))
        created = await subscription_store.create_subscription(redis, producer, sealer, body)
    finally:
        await producer.stop()
    assert created.secret is not None
    return created.id, created.secret


def output_records(history: History) -> list[tuple[str, bytes, bytes]]:
    """The alert and dunning records as the worker writes them (key = account)."""
    return [
        (topic, str(orjson.loads(value)["subject"]).encode(), value)
        for topic in COMPARED
        for value in history.expected[topic]
    ]


@pytest.mark.timeout(600)
async def test_redis_kill_9_and_restart_loses_no_delivery(
    fault_history: History,
    fresh_apache_kafka_bootstrap: str,
    restartable_redis: RestartableRedis,
    tmp_path: Path,
) -> None:
    bootstrap = fresh_apache_kafka_bootstrap
    run_sync(ensure_topics(bootstrap, PARTITIONS))
    records = output_records(fault_history)
    expected = [value for _topic, _key, value in records]
    redis = Redis.from_url(restartable_redis.address)
    receiver = Receiver(secret="whsec_placeholder")
    await receiver.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sub_id, receiver.secret = await create_subscription(bootstrap, redis, receiver.url)
        receiver.delay = 0.01  # deliveries take a while: the kill finds some in flight
        env = pipeline_env(bootstrap, restartable_redis.address)
        procs = [
            start("services.notifier", tmp_path / "notifier.log", env),
            start("services.readmodel", tmp_path / "readmodel.log", env),
        ]
        half = len(records) // 2
        await produce(bootstrap, records[:half])
        await eventually(
            lambda: running(procs) and len(receiver.delivered()) >= len(records) // 4,
            120,
            what="a quarter delivered",
        )
        restartable_redis.kill()
        at_kill = len(receiver.delivered())
        await produce(bootstrap, records[half:])
        await asyncio.sleep(DOWN_S)
        restartable_redis.start()
        restarted = time.monotonic()
        want = {orjson.loads(v)["id"] for v in expected}
        delivered_all = await within(
            lambda: running(procs) and {body_id(b) for b in verified_bodies(receiver)} >= want,
            120,
        )
        recovered = time.monotonic() - restarted if delivered_all else None
        drained = await within(lambda: queue_drained(redis), 10)
        feed = await redis.xrange("hs:alerts")
        subscription = await redis.hget(subscription_store.SUBSCRIPTIONS, sub_id)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        await receiver.stop()
        await redis.aclose()

    tally = Tally()
    tally.add(expected, verified_bodies(receiver))
    accounts = len({key for _topic, key, _value in records})
    record_row(Row(FAULT, len(records), accounts, tally, recovered))
    print(f"{at_kill} delivered at the kill, {tally.repeated} repeated, recovered: {recovered}")
    assert (tally.lost, tally.duplicated) == (0, 0), tally.examples
    assert subscription is not None and drained
    alert_ids = [orjson.loads(fields[b"event"])["id"] for _id, fields in feed]
    assert sorted(alert_ids) == sorted(
        orjson.loads(v)["id"] for v in fault_history.expected[topics.ALERTS]
    )


async def within(predicate: Callable[[], Awaitable[bool] | bool], timeout: float) -> bool:
    """Whether ``predicate`` came true within ``timeout`` (the tally says what is missing)."""
    try:
        await eventually(predicate, timeout)
    except AssertionError:
        return False
    return True


def running(procs: list[subprocess.Popen[bytes]]) -> bool:
    """True; a process that exited fails the test at once (its log is in tmp_path)."""
    dead = {str(p.args): p.returncode for p in procs if p.poll() is not None}
    if dead:
        raise RuntimeError(f"exited: {dead}")
    return True


def verified_bodies(receiver: Receiver) -> list[bytes]:
    return [r.body for r in receiver.requests if r.verified and r.status < 300]


def body_id(body: bytes) -> str:
    return str(orjson.loads(body)["id"])


async def queue_drained(redis: Redis) -> bool:
    return (
        int(await redis.xlen("hs:deliveries")) == 0
        and int(await redis.zcard("hs:deliveries:retry")) == 0
    )
