"""Subscriptions from ``hs:subscriptions``, cached for a short time.

The dispatcher needs every subscription for every event, so it reads the whole
hash at most once per refresh interval (2 s by default: a new subscription takes
effect within seconds, and Redis sees one HGETALL per interval, not one per event).
Workers need one subscription per delivery and must see deletes and secret
changes; on a cache miss they read that one field, so a subscription created a
moment ago is never mistaken for a deleted one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import ValidationError
from redis.asyncio import Redis

from services.notifier.model import Subscription

log = logging.getLogger(__name__)

SUBSCRIPTIONS = "hs:subscriptions"


def parse_subscription(raw: bytes | str) -> Subscription | None:
    try:
        return Subscription.model_validate_json(raw)
    except ValidationError as exc:
        # One bad row must not stop delivery to the others.
        log.error("ignoring invalid subscription: %s", exc.errors(include_input=False))
        return None


class SubscriptionCache:
    def __init__(self, redis: Redis, refresh_seconds: float, clock: Callable[[], float]) -> None:
        self._redis = redis
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._loaded_at: float | None = None
        self._by_id: dict[str, Subscription] = {}

    async def all(self) -> list[Subscription]:
        await self._refresh_if_stale()
        return list(self._by_id.values())

    async def get(self, subscription_id: str) -> Subscription | None:
        await self._refresh_if_stale()
        found = self._by_id.get(subscription_id)
        if found is None:
            raw = await self._redis.hget(SUBSCRIPTIONS, subscription_id)
            found = parse_subscription(raw) if raw else None
            if found is not None:
                self._by_id[subscription_id] = found
        return found

    async def _refresh_if_stale(self) -> None:
        now = self._clock()
        if self._loaded_at is not None and now - self._loaded_at < self._refresh_seconds:
            return
        rows = await self._redis.hgetall(SUBSCRIPTIONS)
        fresh: dict[str, Subscription] = {}
        for raw in rows.values():
            sub = parse_subscription(raw)
            if sub is not None:
                fresh[sub.id] = sub
        self._by_id = fresh
        self._loaded_at = now
