"""The workspace endpoints: score history, timeline, dunning history, profile,
the account listing's sorts and profile filters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from services.readmodel.listing import AccountLister, AccountQuery
from tests.api.factories import (
    account_event,
    alert_event,
    dunning_event,
    health_event,
    lifecycle_event,
    seed,
    touchpoint_event,
)
from tests.api.support import READ


def ids(client: TestClient, **params: Any) -> list[str]:
    body = client.get("/v1/accounts", params=params, headers=READ).json()
    return [item["account_id"] for item in body["items"]]


def test_history_keeps_the_newest_score_of_each_day(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [
        health_event("acme", 80, day=0, hour=1),
        health_event("acme", 70, day=0, hour=9),
        health_event("acme", 75, day=0, hour=5),  # older that day: not the day's value
        health_event("acme", 55, day=1),
    ])  # fmt: skip
    body = client.get("/v1/accounts/acme/history", headers=READ).json()
    assert [(p["day"], p["score"]) for p in body["points"]] == [
        ("2026-11-01", 70.0),
        ("2026-11-02", 55.0),
    ]
    assert body["points"][1]["band"] == "at_risk"


def test_history_covers_at_most_90_days(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [health_event("acme", 60 + d % 10, day=d) for d in range(0, 120, 3)])
    points = client.get("/v1/accounts/acme/history", headers=READ).json()["points"]
    assert points[-1]["day"] == "2027-02-26"  # day 117
    assert points[0]["day"] == "2026-12-01"  # day 30: day 27 is 90 days before the newest
    week = client.get("/v1/accounts/acme/history", params={"days": 7}, headers=READ).json()
    assert [p["day"] for p in week["points"]] == ["2027-02-20", "2027-02-23", "2027-02-26"]


def test_history_of_unknown_account_is_404(client: TestClient) -> None:
    assert client.get("/v1/accounts/nobody/history", headers=READ).status_code == 404
    bad = client.get("/v1/accounts/acme/history", params={"days": 91}, headers=READ)
    assert bad.status_code == 422


def test_timeline_merges_every_kind_newest_first(client: TestClient, redis_url: str) -> None:
    values = [
        health_event("acme", 80, day=0),
        health_event("acme", 55, day=2, previous=80),
        health_event("acme", 53, day=3, previous=55),  # a 2-point move: no line
        alert_event("acme", n=49),  # day 2, 01:00
        dunning_event("acme", "payment_failed_notice", day=4),
        touchpoint_event("acme", "milestone_30d", day=5),
        lifecycle_event("acme", day=6),
    ]
    seed(redis_url, values)
    seed(redis_url, values)  # replayed: nothing twice
    items = client.get("/v1/accounts/acme/timeline", headers=READ).json()["items"]
    assert [i["kind"] for i in items] == [
        "lifecycle", "touchpoint", "dunning", "alert", "health", "health",
    ]  # fmt: skip
    assert items[0]["title"] == "Churned (voluntary)"
    assert "too expensive" in items[0]["detail"]
    assert items[4]["title"] == "Score fell 25 points to 55"
    assert items[5]["title"].startswith("First score: 80")
    two = client.get("/v1/accounts/acme/timeline", params={"limit": 2}, headers=READ).json()
    assert [i["kind"] for i in two["items"]] == ["lifecycle", "touchpoint"]


def test_dunning_history_keeps_closed_cases(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [
        dunning_event("acme", "payment_failed_notice", invoice_id="in_1", day=0),
        dunning_event("acme", "recovered", invoice_id="in_1", day=2, state="recovered"),
        dunning_event("acme", "payment_failed_notice", invoice_id="in_2", day=3),
        dunning_event("acme", "payment_failed_notice", invoice_id="in_3", day=4),
        dunning_event("acme", "canceled", invoice_id=None, day=5),
    ])  # fmt: skip
    open_now = client.get("/v1/accounts/acme/dunning", headers=READ).json()
    assert open_now["open_cases"] == []
    cases = client.get("/v1/accounts/acme/dunning/history", headers=READ).json()["cases"]
    assert {(c["invoice_id"], c["last_step"], c["closed"]) for c in cases} == {
        ("in_1", "recovered", True),
        ("in_2", "canceled", True),
        ("in_3", "canceled", True),
    }


def test_profile_and_stage(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [account_event("acme", created_day=-10), health_event("acme", 70, day=1)])
    body = client.get("/v1/accounts/acme/profile", headers=READ).json()
    assert (body["plan"], body["industry"], body["stage"]) == ("pro", "retail", "onboarding")
    assert body["renewal_at"].startswith("2027-05-20")
    seed(redis_url, [lifecycle_event("acme", day=2)])
    assert client.get("/v1/accounts/acme/profile", headers=READ).json()["stage"] == "churned"
    assert client.get("/v1/accounts/nobody/profile", headers=READ).status_code == 404


def _fleet(redis_url: str) -> None:
    seed(redis_url, [
        account_event("a", plan="pro", industry="retail", created_day=-400),
        account_event("b", plan="basic", industry="retail", created_day=-400),
        account_event("c", plan="pro", industry="media", created_day=-5),
        health_event("a", 70, day=0, arr_cents=500_000),
        health_event("a", 40, day=1, previous=70, arr_cents=500_000),
        health_event("b", 50, day=0, previous=None, arr_cents=900_000),
        health_event("b", 45, day=3, previous=50, arr_cents=900_000),
        health_event("c", 80, day=2, previous=85, arr_cents=100_000),
    ])  # fmt: skip


def test_sorts(client: TestClient, redis_url: str) -> None:
    _fleet(redis_url)
    assert ids(client) == ["a", "b", "c"]  # score ascending, as before
    assert ids(client, sort="arr") == ["b", "a", "c"]
    assert ids(client, sort="arr", order="asc") == ["c", "a", "b"]
    assert ids(client, sort="change") == ["a", "b", "c"]  # -30, -5, -5 (b < c by id)
    assert ids(client, sort="score", order="desc") == ["c", "b", "a"]
    # b at risk since day 0 (4 days at day 3), a since day 1 (0 days), c not at risk.
    assert ids(client, sort="days_at_risk") == ["b", "a", "c"]
    rows = client.get("/v1/accounts", params={"sort": "days_at_risk"}, headers=READ).json()
    assert [r["days_at_risk"] for r in rows["items"]] == [3, 0, None]
    assert rows["items"][0]["reasons"] == ["fewer logins"]
    assert rows["items"][1]["change"] == -30.0


def test_profile_and_arr_filters(client: TestClient, redis_url: str) -> None:
    _fleet(redis_url)
    assert ids(client, plan="pro") == ["a", "c"]
    assert ids(client, plan="pro", industry="retail") == ["a"]
    assert ids(client, stage="onboarding") == ["c"]
    assert ids(client, arr_min=200_000, arr_max=600_000) == ["a"]
    assert ids(client, arr_min=200_000, sort="arr", order="asc") == ["a", "b"]
    assert ids(client, band="at_risk", sort="arr") == ["b", "a"]
    assert ids(client, plan="enterprise") == []
    bad = client.get("/v1/accounts", params={"sort": "name"}, headers=READ)
    assert bad.status_code == 422


def test_sorted_pages_continue_after_the_cursor(client: TestClient, redis_url: str) -> None:
    seed(redis_url, [health_event(f"acct{i:02d}", 30 + i, arr_cents=1000 * (i % 7))
                     for i in range(25)])  # fmt: skip
    for params in ({"sort": "arr"}, {"sort": "arr", "arr_min": 1000}, {"sort": "change"}):
        expected = ids(client, limit=500, **params)
        seen: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 4, **({"cursor": cursor} if cursor else {})}
            body = client.get("/v1/accounts", params=query, headers=READ).json()
            seen += [item["account_id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == expected and len(seen) == len(set(seen))
    # A cursor of one sort is rejected by another.
    body = client.get("/v1/accounts", params={"sort": "arr", "limit": 2}, headers=READ).json()
    other = {"sort": "change", "cursor": body["next_cursor"]}
    assert client.get("/v1/accounts", params=other, headers=READ).status_code == 400


def test_new_endpoints_need_the_read_scope(client: TestClient) -> None:
    for path in ("/v1/accounts/acme/history", "/v1/accounts/acme/timeline",
                 "/v1/accounts/acme/dunning/history", "/v1/accounts/acme/profile",
                 "/v1/analytics/churn"):  # fmt: skip
        assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        AccountQuery({"plan": "pro"}, sort="arr"),
        AccountQuery({"plan": "pro", "industry": "retail"}, sort="change"),
        AccountQuery({"industry": "retail"}, arr_min=1_000, arr_max=5_000, sort="days_at_risk"),
        AccountQuery(arr_min=3_000, sort="score", order="desc"),
        AccountQuery({"band": "at_risk", "segment": "smb"}, sort="arr", order="asc"),
    ],
)
def test_walking_the_index_and_sorting_candidates_agree(
    redis_url: str, query: AccountQuery
) -> None:
    """The two listing strategies (candidates sorted here, or the index walked in
    chunks) page through the same accounts in the same order."""
    values = [
        account_event(
            f"x{i:02d}", plan=("pro", "basic")[i % 2], industry=("retail", "media", "gov")[i % 3]
        )
        for i in range(40)
    ]
    values += [health_event(f"x{i:02d}", 20 + (i * 37) % 80, day=i % 5, arr_cents=1000 * (i % 9),
                            previous=50 + i % 7) for i in range(40)]  # fmt: skip
    seed(redis_url, values)

    async def pages(small_set: int, chunk: int) -> list[str]:
        client = Redis.from_url(redis_url, decode_responses=True)
        lister = AccountLister(client, small_set=small_set, chunk=chunk)
        seen, after = [], None
        while True:
            ids, after = await lister.page(query, after, 3)
            seen += ids
            if after is None:
                await client.aclose()
                return seen

    candidates = asyncio.run(pages(small_set=10_000, chunk=1_000))
    walked = asyncio.run(pages(small_set=0, chunk=2))
    assert candidates == walked and len(candidates) == len(set(candidates))
    assert candidates  # every query matches something
