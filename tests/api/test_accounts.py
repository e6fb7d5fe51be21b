"""GET /v1/accounts/{id}/health, GET /v1/accounts and GET /v1/accounts/{id}/dunning."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.factories import dunning_event, health_event, seed
from tests.api.support import READ


def get_all_pages(client: TestClient, limit: int, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/accounts", params=query, headers=READ).json()
        pages.append([item["account_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_health_of_a_known_account(client: TestClient, api_redis_url: str) -> None:
    seed(api_redis_url, [health_event("acme", 57.5)])
    response = client.get("/v1/accounts/acme/health", headers=READ)
    assert response.status_code == 200
    body = response.json()
    assert body["score"] == 57.5 and body["band"] == "at_risk"
    assert body["model_version"] == "test-1"
    assert body["as_of"].startswith("2026-11-01T00:00:00")
    assert body["dimensions"][0]["name"] == "usage_frequency"
    assert body["event_id"] == "health:acme:0:57.5"


def test_unknown_account_is_404(client: TestClient) -> None:
    response = client.get("/v1/accounts/nobody/health", headers=READ)
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


def test_older_health_never_replaces_newer(client: TestClient, api_redis_url: str) -> None:
    newer, older = health_event("acme", 80.0, day=2), health_event("acme", 40.0, day=1)
    assert seed(api_redis_url, [newer, older, newer]) == [True, False, True]
    assert client.get("/v1/accounts/acme/health", headers=READ).json()["score"] == 80.0
    # The index follows the kept score, not the stale one.
    listed = client.get("/v1/accounts", params={"band": "at_risk"}, headers=READ).json()
    assert listed["items"] == []


def test_accounts_are_listed_at_risk_first(client: TestClient, api_redis_url: str) -> None:
    seed(api_redis_url, [health_event("b", 90), health_event("a", 10), health_event("c", 55.5)])
    body = client.get("/v1/accounts", headers=READ).json()
    assert [(i["account_id"], i["score"]) for i in body["items"]] == [
        ("a", 10),
        ("c", 55.5),
        ("b", 90),
    ]
    assert body["next_cursor"] is None


def test_score_change_moves_the_account(client: TestClient, api_redis_url: str) -> None:
    seed(api_redis_url, [health_event("a", 10), health_event("b", 50)])
    seed(api_redis_url, [health_event("a", 95, day=1)])
    body = client.get("/v1/accounts", headers=READ).json()
    assert [i["account_id"] for i in body["items"]] == ["b", "a"]


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_pages_have_no_gaps_or_duplicates(
    client: TestClient, api_redis_url: str, limit: int
) -> None:
    # Ties on purpose: equal scores must still page deterministically.
    seed(api_redis_url, [health_event(f"acct-{i:02d}", float(i % 4) * 20) for i in range(23)])
    pages = get_all_pages(client, limit)
    flat = [a for page in pages for a in page]
    assert len(flat) == len(set(flat)) == 23
    assert all(len(p) <= limit for p in pages)
    listed_all = client.get("/v1/accounts", params={"limit": 50}, headers=READ).json()
    assert flat == [i["account_id"] for i in listed_all["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"band": "at_risk"}, ["a1", "a2", "e1"]),
        ({"segment": "enterprise"}, ["e1", "e2"]),
        ({"owner": "bob@example.com"}, ["a2", "e2"]),
        ({"segment": "enterprise", "band": "at_risk"}, ["e1"]),
        ({"owner": "bob@example.com", "band": "healthy"}, ["e2"]),
        ({"segment": "free"}, []),
    ],
)
def test_filters_combine(
    client: TestClient, api_redis_url: str, params: dict[str, str], expected: list[str]
) -> None:
    seed(
        api_redis_url,
        [
            health_event("a1", 10, segment="smb", owner="ann@example.com"),
            health_event("a2", 20, segment="smb", owner="bob@example.com"),
            health_event("e1", 30, segment="enterprise", owner="ann@example.com"),
            health_event("e2", 90, segment="enterprise", owner="bob@example.com"),
        ],
    )
    assert [p for page in get_all_pages(client, 1, **params) for p in page] == expected


def test_moving_segment_leaves_the_old_filter(client: TestClient, api_redis_url: str) -> None:
    seed(api_redis_url, [health_event("a", 10, segment="smb")])
    seed(api_redis_url, [health_event("a", 10, segment="enterprise", day=1)])
    smb = client.get("/v1/accounts", params={"segment": "smb"}, headers=READ).json()
    assert smb["items"] == []


@pytest.mark.parametrize("cursor", ["not-base64!", "Zm9v", "MDAxMC4wMDB8"])
def test_forged_cursor_is_400(client: TestClient, cursor: str) -> None:
    response = client.get("/v1/accounts", params={"cursor": cursor}, headers=READ)
    assert response.status_code == 400


def test_open_dunning_cases_and_closing(client: TestClient, api_redis_url: str) -> None:
    seed(
        api_redis_url,
        [
            dunning_event("acme", "payment_failed_notice", invoice_id="in_1", day=0),
            dunning_event("acme", "retry_scheduled", invoice_id="in_1", day=1, state="retrying"),
            dunning_event("acme", "payment_failed_notice", invoice_id="in_2", day=1),
            dunning_event("acme", "renewal_reminder", invoice_id=None, day=1),
        ],
    )
    body = client.get("/v1/accounts/acme/dunning", headers=READ).json()
    assert [(c["invoice_id"], c["last_step"]) for c in body["open_cases"]] == [
        ("in_1", "retry_scheduled"),
        ("in_2", "payment_failed_notice"),
    ]
    assert body["open_cases"][0]["next_due_at"].startswith("2026-11-04")
    seed(api_redis_url, [dunning_event("acme", "recovered", invoice_id="in_1", day=2)])
    # A replayed older step must not reopen the recovered case.
    seed(api_redis_url, [dunning_event("acme", "retry_scheduled", invoice_id="in_1", day=1)])
    body = client.get("/v1/accounts/acme/dunning", headers=READ).json()
    assert [c["invoice_id"] for c in body["open_cases"]] == ["in_2"]


def test_cancel_without_invoice_closes_every_case(client: TestClient, api_redis_url: str) -> None:
    seed(
        api_redis_url,
        [
            dunning_event("acme", "payment_failed_notice", invoice_id="in_1", day=0),
            dunning_event("acme", "payment_failed_notice", invoice_id="in_2", day=1),
            dunning_event("acme", "canceled", invoice_id=None, day=3),
        ],
    )
    assert client.get("/v1/accounts/acme/dunning", headers=READ).json()["open_cases"] == []
