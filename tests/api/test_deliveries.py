"""Dead deliveries: listing with a cursor, and re-drive onto the delivery stream."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import redis
from fastapi.testclient import TestClient

from services.api.delivery_store import DEAD, DELIVERIES
from tests.api.factories import alert_event
from tests.api.support import ADMIN


def dead_record(n: int, event_as_text: bool = True) -> dict[str, Any]:
    event = alert_event(n=n).decode()
    return {
        "delivery_id": f"ev{n}:sub_1",
        "subscription_id": "sub_1",
        "event": event if event_as_text else orjson.loads(event),
        "attempts": 8,
        "last_error": "HTTP 502",
        "failed_at": "2026-11-03T02:14:00Z",
        "channel": "webhook",
    }


def put_dead(url: str, *records: dict[str, Any]) -> redis.Redis:
    client = redis.Redis.from_url(url, decode_responses=True)
    for record in records:
        client.hset(DEAD, record["delivery_id"], orjson.dumps(record))
    return client


def test_list_dead_pages_through_all(client: TestClient, api_redis_url: str) -> None:
    put_dead(api_redis_url, *(dead_record(n, event_as_text=n % 2 == 0) for n in range(5)))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/deliveries/dead", params=params, headers=ADMIN).json()
        seen += [item["delivery_id"] for item in body["items"]]
        assert all(item["event"]["type"].startswith("io.healthscore.") for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"ev{n}:sub_1" for n in range(5)]


@pytest.mark.parametrize("event_as_text", [True, False])
def test_redrive_moves_it_back_to_the_stream(
    client: TestClient, api_redis_url: str, event_as_text: bool
) -> None:
    record = dead_record(1, event_as_text)
    r = put_dead(api_redis_url, record)
    response = client.post("/v1/deliveries/dead/ev1:sub_1/redrive", headers=ADMIN)
    assert response.status_code == 202
    assert r.hget(DEAD, "ev1:sub_1") is None
    [(stream_id, fields)] = r.xrange(DELIVERIES)
    assert response.json() == {"delivery_id": "ev1:sub_1", "queued_as": stream_id}
    assert fields["attempt"] == "0" and fields["subscription_id"] == "sub_1"
    assert orjson.loads(fields["event"]) == orjson.loads(alert_event(n=1))
    assert float(fields["enqueued_at"]) > 0
    again = client.post("/v1/deliveries/dead/ev1:sub_1/redrive", headers=ADMIN)
    assert again.status_code == 404
    assert r.xlen(DELIVERIES) == 1
