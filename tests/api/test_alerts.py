"""GET /v1/alerts: newest first, filters, cursor pagination, de-duplication."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import alert_event, seed
from tests.api.support import READ


def alert_ids(client: TestClient, limit: int, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/alerts", params=query, headers=READ)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_newest_first_with_cursor(client: TestClient, api_redis_url: str) -> None:
    seed(api_redis_url, [alert_event("acme", n=0), alert_event("beta", n=1)])
    body = client.get("/v1/alerts", headers=READ).json()
    assert [i["subject"] for i in body["items"]] == ["beta", "acme"]
    first = body["items"][0]
    assert first["type"] == "io.healthscore.alert.health_below_threshold"
    assert first["data"]["score"] == 55.0
    assert first["cursor"].count("-") == 1


def test_redelivered_alert_is_stored_once(client: TestClient, api_redis_url: str) -> None:
    assert seed(api_redis_url, [alert_event(n=0), alert_event(n=0)]) == [True, False]
    assert seed(api_redis_url, [alert_event(n=0)]) == [False]
    assert len(client.get("/v1/alerts", headers=READ).json()["items"]) == 1


@pytest.mark.parametrize("limit", [1, 2, 5, 100])
def test_pages_have_no_gaps_or_duplicates(
    client: TestClient, api_redis_url: str, limit: int
) -> None:
    seed(api_redis_url, [alert_event(f"a{n % 3}", n=n) for n in range(11)])
    pages = alert_ids(client, limit)
    flat = [i for page in pages for i in page]
    assert flat == [f"alert:a{n % 3}:health_below_threshold:{n}" for n in reversed(range(11))]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"account_id": "a"}, ["alert:a:sudden_drop:3", "alert:a:health_below_threshold:0"]),
        ({"type": "sudden_drop"}, ["alert:a:sudden_drop:3", "alert:b:sudden_drop:1"]),
        ({"account_id": "a", "type": "sudden_drop"}, ["alert:a:sudden_drop:3"]),
        ({"account_id": "b", "type": "health_recovered"}, []),
        ({"account_id": "nobody"}, []),
    ],
)
def test_filters(
    client: TestClient, api_redis_url: str, params: dict[str, str], expected: list[str]
) -> None:
    seed(
        api_redis_url,
        [
            alert_event("a", "health_below_threshold", n=0),
            alert_event("b", "sudden_drop", n=1),
            alert_event("b", "health_below_threshold", n=2),
            alert_event("a", "sudden_drop", n=3),
        ],
    )
    assert [i for page in alert_ids(client, 1, **params) for i in page] == expected


@pytest.mark.parametrize(
    "params", [{"cursor": "abc"}, {"cursor": "1-2-3"}, {"cursor": "99999999999999999999-0"}]
)
def test_bad_cursor_is_400(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/v1/alerts", params=params, headers=READ).status_code == 400


def test_unknown_type_is_422(client: TestClient) -> None:
    response = client.get("/v1/alerts", params={"type": "nope"}, headers=READ)
    assert response.status_code == 422
