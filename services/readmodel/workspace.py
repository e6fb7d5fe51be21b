"""Reads behind the account page: score history, timeline, dunning history, profile.

Plain functions over a ``redis.asyncio`` client (``decode_responses=True``);
documents come back as dicts for the API's query layer to shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from services.readmodel import keys


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    day: str
    as_of_us: int
    score: float
    band: str


async def read_history(redis: Redis, account_id: str, days: int) -> list[HistoryPoint]:
    """The newest score of each day, oldest first, within ``days`` of the newest day."""
    raw = cast(dict[str, str], await redis.hgetall(keys.history_key(account_id)))
    points = []
    for day in sorted(raw):
        as_of_us, _time_us, score, band = orjson.loads(raw[day])
        points.append(HistoryPoint(day, int(as_of_us), float(score), str(band)))
    if not points:
        return []
    horizon = points[-1].as_of_us - days * 86_400_000_000
    return [p for p in points if p.as_of_us > horizon]


async def read_timeline(
    redis: Redis, account_id: str, limit: int, before_ms: int | None = None
) -> list[dict[str, Any]]:
    """Timeline entries newest first, strictly older than ``before_ms`` when given."""
    upper: str | int = f"({before_ms}" if before_ms is not None else "+inf"
    entries = await redis.zrevrangebyscore(
        keys.timeline_key(account_id), upper, "-inf", start=0, num=limit
    )
    return [orjson.loads(e) for e in cast(list[str], entries)]


async def read_dunning_history(redis: Redis, account_id: str) -> list[dict[str, Any]]:
    """Every remembered case (open and closed), most recently updated first."""
    raw = cast(dict[str, str], await redis.hgetall(keys.dunning_history_key(account_id)))
    cases = [orjson.loads(doc) for doc in raw.values()]
    return sorted(cases, key=lambda c: (c.get("updated_at") or "", c.get("invoice_id")),
                  reverse=True)  # fmt: skip


async def read_profile(redis: Redis, account_id: str) -> dict[str, Any] | None:
    """The ``cs.accounts.v1`` profile, the lifecycle stage and the last lifecycle change."""
    pipe = redis.pipeline(transaction=False)
    pipe.hget(keys.profile_key(account_id), "doc")
    pipe.hget(f"hs:health:{account_id}", "stage")
    pipe.hget(keys.lifecycle_key(account_id), "change")
    doc, stage, change = await pipe.execute()
    if doc is None and stage is None:
        return None
    profile: dict[str, Any] = orjson.loads(doc) if doc else {"account_id": account_id}
    profile.update(stage=stage, lifecycle=change)
    return profile
