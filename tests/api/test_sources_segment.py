"""POST /v1/sources/segment: Segment track / identify / group calls, one or
batched, through the app, checked at the producer."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from schemas import topics
from schemas.inputs import decode_event
from tests.api.support import INGEST, INGEST_KEY, READ, FakeProducer

URL = "/v1/sources/segment"
TS = "2026-11-02T09:15:00.000Z"


def call(kind: str = "track", **fields: Any) -> dict[str, Any]:
    """A call as Segment's libraries send it (analytics.js shape, trimmed)."""
    base: dict[str, Any] = {
        "type": kind,
        "messageId": f"ajs-next-{kind}-1",
        "anonymousId": "0b9d2c1e-7d3f-4a8e-9c61-2f0e5b7a4d13",
        "userId": "u42",
        "timestamp": TS,
        "originalTimestamp": "2026-11-02T09:14:59.500Z",
        "receivedAt": "2026-11-02T09:15:00.120Z",
        "sentAt": "2026-11-02T09:15:00.010Z",
        "context": {"groupId": "acme", "library": {"name": "analytics.js", "version": "2.11.1"}},
        "channel": "client",
        "version": 2,
    }
    return {**base, **fields}


def post(client: TestClient, payload: Any, headers: dict[str, str] = INGEST) -> Any:
    return client.post(URL, content=orjson.dumps(payload), headers=headers)


def produced(producer: FakeProducer) -> list[tuple[str, dict[str, Any]]]:
    for message in producer.sent:
        assert decode_event(message.topic, message.value).account_id == message.key.decode()
    return [(m.topic, orjson.loads(m.value)) for m in producer.sent]


def counted(outcome: str) -> float:
    labels = {"source": "segment", "outcome": outcome}
    return REGISTRY.get_sample_value("healthscore_source_events_total", labels) or 0.0


def test_track_is_feature_used(client: TestClient, producer: FakeProducer) -> None:
    track = call(event="Report Exported", properties={"quantity": 3, "format": "csv"})
    response = post(client, track)
    assert response.status_code == 202, response.text
    assert response.json()["ids"] == ["segment:ajs-next-track-1"]
    assert produced(producer) == [
        (
            topics.USAGE,
            {
                "id": "segment:ajs-next-track-1",
                "account_id": "acme",
                "time": TS,
                "type": "feature_used",
                "feature": "Report Exported",
                "user_id": "u42",
                "quantity": 3,
            },
        )
    ]


@pytest.mark.parametrize("name", ["Signed In", "logged in"])
def test_login_names_are_logins(client: TestClient, producer: FakeProducer, name: str) -> None:
    assert post(client, call(event=name)).status_code == 202
    [(topic, event)] = produced(producer)
    assert (topic, event["type"], event["user_id"]) == (topics.USAGE, "login", "u42")


def test_identify_with_account_traits_is_account_upserted(
    client: TestClient, producer: FakeProducer
) -> None:
    identify = call(
        "identify",
        context={},
        traits={
            "account_id": "acme",
            "name": "Acme Inc",
            "segment": "Mid-Market",
            "plan": "pro",
            "owner": "csm@example.com",
            "arr_cents": 12_000_000,
            "createdAt": "2025-01-15T00:00:00Z",
        },
    )
    assert post(client, identify).status_code == 202
    [(topic, event)] = produced(producer)
    assert topic == topics.ACCOUNTS
    assert event == {
        "id": "segment:ajs-next-identify-1",
        "account_id": "acme",
        "time": TS,
        "type": "account_upserted",
        "name": "Acme Inc",
        "segment": "mid_market",
        "plan": "pro",
        "owner": "csm@example.com",
        "arr_cents": 12_000_000,
        "created_at": "2025-01-15T00:00:00Z",
    }


def test_identify_of_a_person_is_skipped(client: TestClient, producer: FakeProducer) -> None:
    identify = call("identify", traits={"name": "Jane Doe", "email": "jane@acme.example"})
    response = post(client, identify)
    assert response.status_code == 202
    [skip] = response.json()["skipped"]
    assert skip["reason"] == "incomplete" and "name and a segment" in skip["detail"]
    assert producer.sent == []


@pytest.mark.parametrize("envelope", ["batch", "array"])
def test_a_batch_maps_each_call(client: TestClient, producer: FakeProducer, envelope: str) -> None:
    calls = [
        call(event="Dashboard Viewed"),
        call("page", name="Pricing"),
        call(
            "group",
            messageId="ajs-next-group-1",
            groupId="beta",
            traits={"name": "Beta GmbH", "segment": "smb"},
        ),
        call(event="Signed In", messageId="ajs-next-track-2", context={}),
    ]
    payload: Any = {"batch": calls, "sentAt": TS} if envelope == "batch" else calls
    before = counted("unknown_type")
    response = post(client, payload)
    assert response.status_code == 202
    body = response.json()
    assert body["ids"] == ["segment:ajs-next-track-1", "segment:ajs-next-group-1"]
    assert [(s["index"], s["reason"]) for s in body["skipped"]] == [
        (1, "unknown_type"),
        (3, "no_account"),
    ]
    assert [(t, e["type"], e["account_id"]) for t, e in produced(producer)] == [
        (topics.USAGE, "feature_used", "acme"),
        (topics.ACCOUNTS, "account_upserted", "beta"),
    ]
    assert counted("unknown_type") == before + 1


def test_an_unknown_type_is_acknowledged_and_counted(
    client: TestClient, producer: FakeProducer
) -> None:
    before = counted("unknown_type")
    response = post(client, call("screen", name="Home"))
    assert response.status_code == 202
    assert response.json()["skipped"][0]["detail"] == "Segment 'screen' calls are not mapped"
    assert producer.sent == []
    assert counted("unknown_type") == before + 1


def test_a_call_without_account_is_acknowledged_and_counted(
    client: TestClient, producer: FakeProducer
) -> None:
    before = counted("no_account")
    response = post(client, call(event="Signed In", context={"ip": "203.0.113.7"}))
    assert response.status_code == 202
    assert response.json()["accepted"] == 0
    assert response.json()["skipped"][0]["reason"] == "no_account"
    assert producer.sent == []
    assert counted("no_account") == before + 1


def test_a_mapped_call_breaking_the_contract_rejects_the_batch(
    client: TestClient, producer: FakeProducer
) -> None:
    calls = [
        call("page"),
        call(event="Exported"),
        call(event="Imported", messageId="m-3", properties={"quantity": -2}),
    ]
    response = post(client, {"batch": calls})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["index"], error["id"]) == (2, "segment:m-3")  # position in the batch
    assert "quantity" in error["errors"][0]
    assert producer.sent == []


def test_a_retried_call_keeps_its_id(client: TestClient, producer: FakeProducer) -> None:
    bare = {"type": "track", "event": "Exported", "groupId": "acme", "timestamp": TS}
    post(client, bare)
    post(client, dict(reversed(bare.items())))
    first, second = (e["id"] for _, e in produced(producer))
    assert first == second and first.startswith("segment:")


def test_the_key_may_come_as_http_basic(client: TestClient, producer: FakeProducer) -> None:
    basic = base64.b64encode(f"{INGEST_KEY}:".encode()).decode()
    response = post(client, call(event="Exported"), {"Authorization": f"Basic {basic}"})
    assert response.status_code == 202
    assert len(producer.sent) == 1


def test_a_read_key_is_403(client: TestClient, producer: FakeProducer) -> None:
    assert post(client, call(event="Exported"), READ).status_code == 403
    assert producer.sent == []


def test_batch_size_is_bounded(client: TestClient, producer: FakeProducer) -> None:
    response = post(client, {"batch": [call(event="x")] * 1001})
    assert response.status_code == 413
    assert producer.sent == []
