"""Churned accounts leave the at-risk views (issue 35 item 1) and come back on
reactivation; ``stage=churned`` still lists them. The read model keeps them out
of the indexes the listings walk, whatever order the records arrive in."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from services.readmodel.listing import AccountLister, AccountQuery
from tests.api.factories import account_event, health_event, lifecycle_event, seed
from tests.api.support import READ

#: acme falls to 10 and churns; beta is at risk and stays a customer; zeta is healthy.
RECORDS = [
    health_event("acme", 30, day=0, arr_cents=900_000),
    health_event("acme", 10, day=5, previous=30, arr_cents=900_000),
    lifecycle_event("acme", day=3),
    account_event("acme", created_day=-400),
]
OTHERS = [
    health_event("beta", 40, day=1, arr_cents=500_000),
    health_event("zeta", 90, day=1, arr_cents=100_000),
]


def ids(client: TestClient, **params: Any) -> list[str]:
    body = client.get("/v1/accounts", params=params, headers=READ).json()
    return [item["account_id"] for item in body["items"]]


def listing_state(url: str) -> dict[str, Any]:
    """The listing indexes and filter sets, as plain values."""
    with redis.Redis.from_url(url, decode_responses=True) as r:
        state: dict[str, Any] = {}
        for key in sorted(r.scan_iter("hs:accounts:*")):
            kind = r.type(key)
            state[key] = r.smembers(key) if kind == "set" else r.zrange(key, 0, -1, withscores=True)
        state["ix"] = r.hmget("hs:health:acme", ["ix", "stage"])
        return state


def walk(url: str, query: AccountQuery, small_set: int) -> list[str]:
    """One page from the lister, forced onto the candidates (large ``small_set``)
    or the index-walk (``small_set=0``) strategy."""

    async def run() -> list[str]:
        client = Redis.from_url(url, decode_responses=True)
        try:
            lister = AccountLister(client, small_set=small_set, chunk=2)
            return (await lister.page(query, None, 50))[0]
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_churned_account_leaves_the_at_risk_listings(client: TestClient, redis_url: str) -> None:
    seed(redis_url, OTHERS + RECORDS)
    assert ids(client, band="at_risk") == ["beta"]
    assert ids(client) == ["beta", "zeta"]  # at-risk first, the churned account left out
    assert ids(client, band="at_risk", sort="arr") == ["beta"]
    assert ids(client, sort="days_at_risk") == ["beta", "zeta"]
    assert ids(client, band="at_risk", segment="smb") == ["beta"]
    # Asked for explicitly, it is there, in every sort.
    assert ids(client, stage="churned") == ["acme"]
    assert ids(client, stage="churned", band="at_risk", sort="arr") == ["acme"]
    assert ids(client, stage="active") == ["beta", "zeta"]


@pytest.mark.parametrize("small_set", [0, 1_000])
def test_both_listing_strategies_leave_churned_accounts_out(
    clean_redis_url: str, small_set: int
) -> None:
    seed(clean_redis_url, OTHERS + RECORDS)
    for sort in ("score", "arr", "change", "days_at_risk"):
        at_risk = AccountQuery({"band": "at_risk"}, sort=sort)
        churned = AccountQuery({"stage": "churned"}, sort=sort)
        assert walk(clean_redis_url, at_risk, small_set) == ["beta"], sort
        assert walk(clean_redis_url, churned, small_set) == ["acme"], sort


def test_reactivation_brings_the_account_back(client: TestClient, redis_url: str) -> None:
    seed(redis_url, OTHERS + RECORDS)
    seed(redis_url, [lifecycle_event("acme", "reactivated", day=6)])
    assert ids(client, band="at_risk") == ["acme", "beta"]
    assert ids(client) == ["acme", "beta", "zeta"]
    assert ids(client, stage="churned") == []
    # An older churn replayed after the reactivation does not churn it again.
    seed(redis_url, [lifecycle_event("acme", day=3)])
    assert ids(client, band="at_risk") == ["acme", "beta"]


def test_same_indexes_in_every_arrival_order(clean_redis_url: str) -> None:
    states = []
    # The two scores stay in order ("at risk since" is the earliest score seen),
    # the lifecycle change and the profile land anywhere around them.
    orders = [
        o for o in itertools.permutations(RECORDS) if o.index(RECORDS[0]) < o.index(RECORDS[1])
    ]
    assert len(orders) == 12
    for order in orders:
        with redis.Redis.from_url(clean_redis_url) as r:
            r.flushall()
        seed(clean_redis_url, [*OTHERS, *order])
        states.append(listing_state(clean_redis_url))
    assert states[0]["ix"] == ["churned", "churned"]
    assert "hs:accounts:churned:by_score" in states[0]
    assert all(s == states[0] for s in states)


def test_at_risk_page_leaves_churned_accounts_out(client: TestClient, redis_url: str) -> None:
    seed(redis_url, OTHERS + RECORDS)
    page = client.get("/app", headers=READ).text
    assert 'data-account="beta"' in page and 'data-account="acme"' not in page
    churned = client.get("/app", params={"stage": "churned"}, headers=READ).text
    assert 'data-account="acme"' in churned and 'data-account="beta"' not in churned


def test_openapi_says_how_churned_accounts_are_listed(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = spec["paths"]["/v1/accounts"]["get"]["parameters"]
    stage = next(p for p in params if p["name"] == "stage")
    assert "churned accounts are left out" in stage["description"]
