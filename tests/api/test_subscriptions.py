"""Subscriptions: create (secret once), read, list, delete, target validation."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
import redis
from fastapi.testclient import TestClient

from services.api.subscription_store import SUBSCRIPTIONS
from tests.api.support import ADMIN


def subscription(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "webhook",
        "target": "https://cs.example.com/hooks",
        "filters": {
            "types": ["io.healthscore.alert."],
            "segments": ["enterprise"],
            "owners": ["csm@example.com"],
            "min_arr_cents": 100,
        },
        "description": "risk alerts",
    }
    return {**body, **overrides}


def create(client: TestClient, **overrides: Any) -> Any:
    return client.post("/v1/subscriptions", json=subscription(**overrides), headers=ADMIN)


def test_webhook_secret_is_shown_once_and_stored(client: TestClient, api_redis_url: str) -> None:
    response = create(client)
    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("sub_") and len(created["id"]) == 28
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    stored = orjson.loads(redis.Redis.from_url(api_redis_url).hget(SUBSCRIPTIONS, created["id"]))
    assert stored["secret"] == secret and stored["active"] is True
    assert stored["filters"]["min_arr_cents"] == 100
    shown = client.get(f"/v1/subscriptions/{created['id']}", headers=ADMIN).json()
    assert "secret" not in shown and shown["target"] == "https://cs.example.com/hooks"
    listed = client.get("/v1/subscriptions", headers=ADMIN).json()["items"]
    assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]


@pytest.mark.parametrize(
    ("channel", "target"),
    [
        ("slack", "https://hooks.slack.com/services/T/B/X"),
        ("email", "csm@example.com"),
        ("webhook", "http://127.0.0.1:8080/hook"),
        ("webhook", "http://localhost/hook"),
    ],
)
def test_accepted_targets(client: TestClient, channel: str, target: str) -> None:
    response = create(client, channel=channel, target=target)
    assert response.status_code == 201, response.text
    assert (response.json()["secret"] is not None) == (channel == "webhook")


@pytest.mark.parametrize(
    ("channel", "target"),
    [
        ("webhook", "http://example.com/hook"),
        ("webhook", "ftp://example.com"),
        ("slack", "csm@example.com"),
        ("email", "https://example.com"),
        ("email", "no-at-sign"),
        ("webhook", "https://"),
        ("webhook", "https://exa mple.com"),
        ("sms", "+15550100"),
    ],
)
def test_rejected_targets(client: TestClient, channel: str, target: str) -> None:
    assert create(client, channel=channel, target=target).status_code == 422


def test_filter_types_must_be_ours(client: TestClient) -> None:
    assert create(client, filters={"types": ["com.other.thing"]}).status_code == 422


def test_delete_then_404(client: TestClient) -> None:
    sub_id = create(client).json()["id"]
    assert client.delete(f"/v1/subscriptions/{sub_id}", headers=ADMIN).status_code == 204
    assert client.get(f"/v1/subscriptions/{sub_id}", headers=ADMIN).status_code == 404
    assert client.delete(f"/v1/subscriptions/{sub_id}", headers=ADMIN).status_code == 404
