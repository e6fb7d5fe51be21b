"""POST /v1/sources/stripe: Stripe's own payloads, signed as Stripe signs them,
through the app (TestClient, session Redis), checked at the producer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from schemas import topics
from schemas.inputs import decode_event
from services.api.errors import BrokerUnavailableError
from tests.api import stripe_payloads as sp
from tests.api.support import FakeProducer, make_app

URL = "/v1/sources/stripe"


@pytest.fixture(scope="module")
def stripe_client(redis_url: str, producer: FakeProducer) -> Iterator[TestClient]:
    app = make_app(redis_url, producer, HEALTHSCORE_STRIPE_WEBHOOK_SECRET=sp.SECRET)
    with TestClient(app) as test_client:
        yield test_client


def deliver(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(URL, content=body, headers=sp.sign(body) if headers is None else headers)


def produced(producer: FakeProducer) -> list[dict[str, Any]]:
    """What reached the producer, checked against the contract on its topic."""
    for message in producer.sent:
        assert message.topic == topics.BILLING
        assert decode_event(message.topic, message.value).account_id == message.key.decode()
    return [orjson.loads(m.value) for m in producer.sent]


def counted(outcome: str) -> float:
    labels = {"source": "stripe", "outcome": outcome}
    return REGISTRY.get_sample_value("healthscore_source_events_total", labels) or 0.0


ID = "stripe:evt_1QxYz2LkdIwHu7ix"
TIME = "2026-11-04T00:00:00Z"

CASES = [
    (
        "invoice.payment_failed",
        sp.invoice(
            subscription_details={"metadata": {"account_id": "acme"}},
            payment_intent={
                "id": "pi_3QxYz0LkdIwHu7ix1XyZ",
                "object": "payment_intent",
                "last_payment_error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                },
            },
        ),
        {
            "type": "payment_failed",
            "account_id": "acme",
            "invoice_id": "in_1QxYyzLkdIwHu7ixAbCdEf",
            "amount_cents": 49900,
            "currency": "USD",
            "decline_code": "insufficient_funds",
        },
    ),
    (
        "invoice.payment_succeeded",
        sp.invoice(metadata={"account_id": "acme"}, amount_paid=49900, paid=True, status="paid"),
        {
            "type": "payment_succeeded",
            "account_id": "acme",
            "invoice_id": "in_1QxYyzLkdIwHu7ixAbCdEf",
            "amount_cents": 49900,
            "currency": "USD",
        },
    ),
    (
        "customer.subscription.deleted",
        sp.subscription(
            metadata={"account_id": "acme"},
            cancellation_details={
                "comment": "Moving to a cheaper tool",
                "feedback": "too_expensive",
                "reason": "cancellation_requested",
            },
        ),
        {
            "type": "subscription_canceled",
            "account_id": "acme",
            "reason": "cancellation_requested: too_expensive",
        },
    ),
    (
        "customer.source.expiring",
        sp.card(exp_month=12, exp_year=2026),
        {
            "type": "card_expiring",
            "account_id": sp.CUSTOMER,
            "card_expires_at": "2027-01-01T00:00:00Z",
        },
    ),
    (
        "invoice.upcoming",
        sp.invoice(
            id=None,  # an upcoming invoice is a preview: it has no id yet
            status="draft",
            attempted=False,
            charge=None,
            payment_intent=None,
            next_payment_attempt=sp.PERIOD_END + 3600,
            subscription_details={"metadata": {"account_id": "acme"}},
        ),
        {
            "type": "renewal_scheduled",
            "account_id": "acme",
            "renewal_at": "2026-12-05T01:00:00Z",
            "amount_cents": 49900,
            "currency": "USD",
        },
    ),
]


@pytest.mark.parametrize(("kind", "obj", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_mapped_type_reaches_the_producer(
    stripe_client: TestClient, producer: FakeProducer, kind: str, obj: Any, expected: dict[str, Any]
) -> None:
    response = deliver(stripe_client, sp.event(kind, obj))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "ids": [ID], "duplicate": False, "skipped": []}
    assert produced(producer) == [{"id": ID, "time": TIME, **expected}]
    assert producer.sent[0].key == expected["account_id"].encode()


def test_usd_is_produced_as_iso_upper_case(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    body = sp.event("invoice.payment_succeeded", sp.invoice(currency="usd", amount_paid=100))
    assert b'"currency": "usd"' in body
    assert deliver(stripe_client, body).status_code == 202
    [event] = produced(producer)
    assert event["currency"] == "USD"


def test_without_decline_code_in_the_payload_it_is_unknown(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    """Webhook payloads carry the charge as an id only: no decline code to read."""
    assert (
        deliver(stripe_client, sp.event("invoice.payment_failed", sp.invoice())).status_code == 202
    )
    [event] = produced(producer)
    assert (event["decline_code"], event["account_id"]) == ("unknown", sp.CUSTOMER)


def test_a_replayed_delivery_is_not_produced_twice(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice())
    headers = sp.sign(body)
    before = counted("duplicate")
    first = deliver(stripe_client, body, headers)
    replay = deliver(stripe_client, body, headers)  # same signature, same body, within 300 s
    retry = deliver(stripe_client, body, sp.sign(body, at=int(time.time()) + 1))  # Stripe's retry
    assert first.json()["accepted"] == 1
    for again in (replay, retry):
        assert again.status_code == 202
        assert again.json() == {"accepted": 0, "ids": [], "duplicate": True, "skipped": []}
    assert len(producer.sent) == 1
    assert counted("duplicate") == before + 2


def test_a_stale_timestamp_is_rejected(stripe_client: TestClient, producer: FakeProducer) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice())
    response = deliver(stripe_client, body, sp.sign(body, at=int(time.time()) - 301))
    assert response.status_code == 400
    assert "more than 300 s old" in response.json()["detail"]
    assert producer.sent == []


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "No Stripe-Signature header"),
        ({"Stripe-Signature": "v1=abc"}, "Unable to extract timestamp"),
        ({"Stripe-Signature": "t=123"}, "No signatures found with expected scheme"),
        ("other-secret", "does not match the body"),
        ("tampered", "does not match the body"),
    ],
)
def test_a_bad_signature_is_rejected(
    stripe_client: TestClient, producer: FakeProducer, headers: Any, says: str
) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice())
    if headers == "other-secret":
        headers = sp.sign(body, secret="whsec_someone_else_0123456789")
    elif headers == "tampered":
        headers = sp.sign(body)
        body = body.replace(b"49900", b"1")
    response = deliver(stripe_client, body, headers)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert producer.sent == []


def test_a_body_that_is_not_utf8_is_400(stripe_client: TestClient) -> None:
    body = b'{"id": "evt_\xff"}'
    assert deliver(stripe_client, body, {"Stripe-Signature": "t=1,v1=00"}).status_code == 400


def test_an_unknown_type_is_acknowledged_and_counted(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    before = counted("unknown_type")
    body = sp.event("invoice.finalized", sp.invoice(status="open"))
    response = deliver(stripe_client, body)
    assert response.status_code == 202
    assert response.json()["skipped"] == [
        {
            "index": 0,
            "reason": "unknown_type",
            "detail": "Stripe event type 'invoice.finalized' is not mapped",
        }
    ]
    assert producer.sent == []
    assert counted("unknown_type") == before + 1


def test_a_mapped_event_that_breaks_the_contract_is_422(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice(metadata={"account_id": "a" * 129}))
    response = deliver(stripe_client, body)
    assert response.status_code == 422
    assert "account_id" in response.json()["errors"][0]["errors"][0]
    assert producer.sent == []


def test_a_broker_error_releases_the_event_for_stripes_retry(
    stripe_client: TestClient, producer: FakeProducer
) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice())
    producer.failure = BrokerUnavailableError("Kafka is not connected")
    assert deliver(stripe_client, body).status_code == 503
    producer.failure = None
    retry = deliver(stripe_client, body)
    assert retry.json()["accepted"] == 1
    assert len(producer.sent) == 1


def test_a_delivery_in_flight_is_409_so_stripe_retries_it(
    stripe_client: TestClient, producer: FakeProducer, redis_url: str
) -> None:
    with redis.Redis.from_url(redis_url) as client:
        client.set("hs:sources:stripe:evt_1QxYz2LkdIwHu7ix", "pending", ex=60)
    response = deliver(stripe_client, sp.event("invoice.payment_failed", sp.invoice()))
    assert response.status_code == 409
    assert producer.sent == []


def test_without_redis_events_still_flow(producer: FakeProducer) -> None:
    """The replay check is a shortcut; the worker's id dedupe is the guarantee."""
    app = make_app("redis://127.0.0.1:1/0", producer, HEALTHSCORE_STRIPE_WEBHOOK_SECRET=sp.SECRET)
    with TestClient(app) as client:
        response = deliver(client, sp.event("invoice.payment_failed", sp.invoice()))
    assert response.status_code == 202
    assert len(producer.sent) == 1


def test_without_a_secret_the_route_is_503(client: TestClient, producer: FakeProducer) -> None:
    body = sp.event("invoice.payment_failed", sp.invoice())
    response = deliver(client, body)
    assert response.status_code == 503
    assert "HEALTHSCORE_STRIPE_WEBHOOK_SECRET is not set" in response.json()["detail"]
    assert producer.sent == []
