"""POST /v1/events: all-or-nothing validation, topic routing, limits."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from schemas import topics
from services.api.errors import BrokerUnavailableError
from tests.api.factories import input_event
from tests.api.support import INGEST, FakeProducer


def post(client: TestClient, payload: Any) -> Any:
    return client.post("/v1/events", content=orjson.dumps(payload), headers=INGEST)


def test_one_event_is_produced_keyed_by_account(client: TestClient, producer: FakeProducer) -> None:
    response = post(client, input_event(1))
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "ids": ["u-1"]}
    [sent] = producer.sent
    assert (sent.topic, sent.key) == (topics.USAGE, b"acme")
    assert orjson.loads(sent.value) == input_event(1)


def test_batch_goes_to_each_types_topic(client: TestClient, producer: FakeProducer) -> None:
    batch = [
        input_event(1),
        {
            "id": "t-9",
            "account_id": "beta",
            "type": "ticket_opened",
            "time": "2026-11-02T10:00:00Z",
            "ticket_id": "T-9",
            "priority": "urgent",
        },
        {
            "id": "f-1",
            "account_id": "acme",
            "type": "nps_response",
            "time": "2026-11-02T10:00:00+02:00",
            "score": 3,
        },
    ]
    response = post(client, batch)
    assert response.status_code == 202
    assert response.json()["ids"] == ["u-1", "t-9", "f-1"]
    assert [(m.topic, m.key) for m in producer.sent] == [
        (topics.USAGE, b"acme"),
        (topics.TICKETS, b"beta"),
        (topics.FEEDBACK, b"acme"),
    ]


def test_one_invalid_item_rejects_the_batch(client: TestClient, producer: FakeProducer) -> None:
    batch = [
        input_event(0),
        input_event(1, time="2026-11-02T09:15:00"),  # no offset
        input_event(2),
        {"id": "x", "account_id": "acme", "type": "teleported", "time": "2026-11-02T09:15:00Z"},
        "not an object",
    ]
    response = post(client, batch)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["index"], e["id"]) for e in errors] == [(1, "u-1"), (3, "x"), (4, None)]
    assert "time" in errors[0]["errors"][0]
    assert "teleported" in errors[1]["errors"][0]
    assert producer.sent == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"null"])
def test_unusable_bodies_are_422(client: TestClient, producer: FakeProducer, body: bytes) -> None:
    response = client.post("/v1/events", content=body, headers=INGEST)
    assert response.status_code == 422
    assert producer.sent == []


def test_body_over_the_limit_is_413(client: TestClient, producer: FakeProducer) -> None:
    huge = [input_event(i, user_id="x" * 2000) for i in range(600)]  # > 1 MiB
    response = post(client, huge)
    assert response.status_code == 413
    assert producer.sent == []


def test_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(2048):
            yield b" " * 1024  # no Content-Length: counted while it arrives

    response = client.post("/v1/events", content=chunks(), headers=INGEST)
    assert response.status_code == 413


def test_more_than_1000_events_is_413(client: TestClient, producer: FakeProducer) -> None:
    response = post(client, [input_event(i) for i in range(1001)])
    assert response.status_code == 413
    assert producer.sent == []


def test_broker_failure_is_503(client: TestClient, producer: FakeProducer) -> None:
    producer.failure = BrokerUnavailableError("Kafka did not acknowledge")
    assert post(client, input_event(1)).status_code == 503
