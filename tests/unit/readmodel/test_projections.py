"""The workspace projections against a real Redis: a replay changes nothing.

The projector is at-least-once: a crash between the Redis write and the offset
commit re-reads a batch, and a rebuild replays whole topics. Every projection
(history, timeline, dunning history, profiles, lifecycle counters, payments)
must therefore leave Redis byte-identical when a batch is applied again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import redis
from aiokafka import ConsumerRecord  # type: ignore[import-untyped]
from redis.asyncio import Redis

from services.readmodel.projector import project
from services.readmodel.store import ReadModelStore
from tests.api.factories import (
    account_event,
    alert_event,
    dunning_event,
    health_event,
    lifecycle_event,
    payment_event,
    topic_for,
    touchpoint_event,
)

BATCH = [
    account_event("acme", created_day=-5),
    health_event("acme", 80, day=0),
    health_event("acme", 50, day=1, previous=80, arr_cents=120_000),
    health_event("beta", 40, day=1),
    alert_event("acme", n=30),
    dunning_event("acme", "payment_failed_notice", invoice_id="in_1", day=1),
    dunning_event("acme", "recovered", invoice_id="in_1", day=2, state="recovered"),
    dunning_event("beta", "payment_failed_notice", invoice_id="in_9", day=2),
    dunning_event("beta", "canceled", invoice_id=None, day=3),
    touchpoint_event("acme", "milestone_30d", day=2),
    lifecycle_event("beta", day=3, kind="involuntary", reason=None),
    lifecycle_event("beta", "reactivated", day=9),
    # Churned before its first score reaches the read model: listed apart.
    lifecycle_event("gamma", day=0),
    health_event("gamma", 20, day=1),
    payment_event(1, failed=True, day=1),
    payment_event(2, failed=False, day=2),
]


def _records(values: list[bytes]) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(topic_for(v), 0, i, 0, 0, b"k", v, None, 1, len(v), [])
        for i, v in enumerate(values)
    ]


def snapshot(url: str) -> dict[str, Any]:
    """Every key's type and content (stream entries by count: their ids are times)."""
    with redis.Redis.from_url(url, decode_responses=True) as client:
        state: dict[str, Any] = {}
        for key in client.scan_iter("hs:*"):
            kind = client.type(key)
            readers = {
                "hash": client.hgetall,
                "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                "set": client.smembers,
                "string": client.get,
                "stream": client.xlen,
            }
            state[key] = (kind, readers[kind](key))
        return state


def _project(url: str, values: list[bytes]) -> Counter[str]:
    async def run() -> Counter[str]:
        client = Redis.from_url(url, decode_responses=True)
        try:
            return await project(ReadModelStore(client), _records(values))
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_replaying_a_batch_changes_nothing(clean_redis_url: str) -> None:
    first = _project(clean_redis_url, BATCH)
    assert first["lifecycle"] == 3 and first["payment"] == 2 and first["profile"] == 1
    assert first["history"] == 4 and first["timeline"] >= 8
    before = snapshot(clean_redis_url)
    assert before["hs:accounts:churned:by_score"][1] == [("0020.000|gamma", 0.0)]
    again = _project(clean_redis_url, BATCH)
    assert snapshot(clean_redis_url) == before
    changed = {k: n for k, n in again.items() if k not in {"stale", "duplicate", "ignored"}}
    # Equal versions of a score, a case or a profile re-apply by design (the
    # same bytes); counted things (history, timeline, churn, payments) do not.
    assert set(changed) <= {"health", "dunning", "profile"}


def test_replay_in_reverse_order_gives_the_same_counters(clean_redis_url: str) -> None:
    _project(clean_redis_url, BATCH)
    forward = {k: v for k, v in snapshot(clean_redis_url).items() if k.startswith("hs:month")}
    with redis.Redis.from_url(clean_redis_url) as client:
        client.flushall()
    _project(clean_redis_url, list(reversed(BATCH)))
    backward = {k: v for k, v in snapshot(clean_redis_url).items() if k.startswith("hs:month")}
    # ARR moves depend on order (the later score is compared with the earlier one),
    # counts of new accounts, churn and reactivation do not.
    for key in forward:
        if key.startswith("hs:month:2"):
            drop = {"exp_arr", "con_arr"}
            fwd = {k: v for k, v in forward[key][1].items() if k not in drop}
            bwd = {k: v for k, v in backward[key][1].items() if k not in drop}
            assert fwd == bwd, key
