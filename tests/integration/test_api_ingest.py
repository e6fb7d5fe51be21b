"""The API and the read-model projector against a real Kafka-protocol broker.

Each test gets a fresh Tansu (``fresh_tansu_bootstrap``: the API and the
projector use the fixed contract topic names) with the contract topics, and the
session Redis. Checks that ``POST /v1/events`` lands each event on its topic
keyed by account, and that CloudEvents on the output topics reach the GET
endpoints through the projector (redelivered alerts stored once).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from schemas import topics
from services.api.main import create_app
from services.readmodel.projector import run
from services.readmodel.settings import ReadModelSettings
from services.stack.probe import run_sync
from services.stack.topics import ensure_topics
from tests.api import stripe_payloads as sp
from tests.api.factories import alert_event, dunning_event, health_event, input_event
from tests.api.support import ADMIN, INGEST, READ, make_settings
from tests.integration.kafka_io import at_least, produce, read_until
from tests.polling import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
PARTITIONS = 4


@pytest.fixture
def bootstrap(fresh_tansu_bootstrap: str) -> str:
    """A fresh broker holding every contract topic."""
    run_sync(ensure_topics(fresh_tansu_bootstrap, PARTITIONS))
    return fresh_tansu_bootstrap


async def _read_all(servers: str, topic: str, expected: int) -> list[tuple[bytes, bytes]]:
    found = await read_until(servers, topic, done=at_least(expected), timeout=30)
    return [(r.key, r.value) for r in found]


def _wait_ready(client: TestClient) -> None:
    wait_until(lambda: client.get("/readyz").status_code == 200, 60, "API ready", interval=0.2)


def test_posted_events_land_on_their_topics(bootstrap: str, clean_redis_url: str) -> None:
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
    app = create_app(make_settings(clean_redis_url, KAFKA_BOOTSTRAP_SERVERS=bootstrap))
    with TestClient(app) as client:
        _wait_ready(client)
        response = client.post("/v1/events", content=orjson.dumps([login, payment]), headers=INGEST)
        assert response.status_code == 202, response.text
        assert "healthscore_events_ingested_total" in client.get("/metrics").text
    usage = asyncio.run(_read_all(bootstrap, topics.USAGE, 1))
    billing = asyncio.run(_read_all(bootstrap, topics.BILLING, 1))
    assert [(k, orjson.loads(v)) for k, v in usage] == [(b"acme", login)]
    assert [(k, orjson.loads(v)) for k, v in billing] == [(b"beta", payment)]


def test_third_party_sources_land_on_the_input_topics(bootstrap: str, clean_redis_url: str) -> None:
    """A signed Stripe event (delivered twice) and a Segment track, through the
    real producer: one billing and one usage event, keyed by account."""
    stripe_body = sp.event(
        "invoice.payment_failed", sp.invoice(metadata={"account_id": "acme"}, currency="usd")
    )
    track = {
        "type": "track",
        "messageId": "ajs-1",
        "event": "Report Exported",
        "timestamp": "2026-11-02T09:15:00Z",
        "context": {"groupId": "beta"},
    }
    settings = make_settings(
        clean_redis_url,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        HEALTHSCORE_STRIPE_WEBHOOK_SECRET=sp.SECRET,
    )
    with TestClient(create_app(settings)) as client:
        _wait_ready(client)
        for _ in range(2):
            headers = sp.sign(stripe_body)
            response = client.post("/v1/sources/stripe", content=stripe_body, headers=headers)
            assert response.status_code == 202, response.text
        assert response.json()["duplicate"] is True
        response = client.post("/v1/sources/segment", content=orjson.dumps(track), headers=INGEST)
        assert response.status_code == 202, response.text
    # settle: a second copy of the Stripe event would arrive right after the first
    billing = asyncio.run(read_until(bootstrap, topics.BILLING, at_least(1), timeout=30, settle=1))
    usage = asyncio.run(_read_all(bootstrap, topics.USAGE, 1))
    assert [(r.key, orjson.loads(r.value)["currency"]) for r in billing] == [(b"acme", "USD")]
    assert [(k, orjson.loads(v)["feature"]) for k, v in usage] == [(b"beta", "Report Exported")]


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


def test_projector_feeds_the_read_endpoints(bootstrap: str, clean_redis_url: str) -> None:
    records = [
        (topics.HEALTH, b"acme", health_event("acme", 72.0, day=0)),
        (topics.HEALTH, b"acme", health_event("acme", 41.5, day=1)),
        (topics.HEALTH, b"beta", health_event("beta", 90.0, day=1)),
        (topics.ALERTS, b"acme", alert_event("acme", "health_below_threshold", n=1)),
        (topics.ALERTS, b"acme", alert_event("acme", "health_below_threshold", n=1)),  # again
        (topics.ALERTS, b"acme", alert_event("acme", "sudden_drop", n=2)),
        (topics.DUNNING, b"acme", dunning_event("acme", "payment_failed_notice")),
    ]
    asyncio.run(produce(bootstrap, records))
    asyncio.run(_project_until(bootstrap, clean_redis_url, "hs:alerts", 2))
    app = create_app(make_settings(clean_redis_url, KAFKA_BOOTSTRAP_SERVERS=bootstrap))
    with TestClient(app) as client:
        health = client.get("/v1/accounts/acme/health", headers=READ).json()
        assert (health["score"], health["band"]) == (41.5, "at_risk")
        accounts = client.get("/v1/accounts", headers=READ).json()["items"]
        assert [a["account_id"] for a in accounts] == ["acme", "beta"]
        alerts = client.get("/v1/alerts", headers=ADMIN).json()["items"]
        assert [a["data"]["alert"] for a in alerts] == ["sudden_drop", "health_below_threshold"]
        dunning = client.get("/v1/accounts/acme/dunning", headers=READ).json()
        assert [c["invoice_id"] for c in dunning["open_cases"]] == ["in_1"]
