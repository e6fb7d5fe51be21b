"""Subscriptions in Redis, in the layout the notifier reads (REDIS_LAYOUT.md).

``hs:subscriptions`` HASH: field = subscription id, value = JSON with the
signing secret. The secret is generated here, returned once by the create
call, and stripped from every later read.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from redis.asyncio import Redis

from services.api.errors import SubscriptionNotFoundError
from services.api.models import SubscriptionCreate, SubscriptionCreated, SubscriptionPublic

SUBSCRIPTIONS: Final = "hs:subscriptions"
_SECRET_BYTES: Final = 24


def new_subscription_id() -> str:
    return f"sub_{secrets.token_hex(12)}"


def new_webhook_secret() -> str:
    """``whsec_`` + base64 of random bytes: the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


async def create_subscription(
    redis: Redis, body: SubscriptionCreate, now: datetime | None = None
) -> SubscriptionCreated:
    record: dict[str, Any] = {
        "id": new_subscription_id(),
        "channel": body.channel,
        "target": body.target,
        "secret": new_webhook_secret() if body.channel == "webhook" else None,
        "filters": body.filters.model_dump(mode="json"),
        "description": body.description,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "active": True,
    }
    await redis.hset(SUBSCRIPTIONS, record["id"], orjson.dumps(record))
    return SubscriptionCreated.model_validate(record)


async def list_subscriptions(redis: Redis) -> list[SubscriptionPublic]:
    stored = await redis.hvals(SUBSCRIPTIONS)
    subs = [_public(orjson.loads(v)) for v in stored]
    return sorted(subs, key=lambda s: (s.created_at, s.id))


async def get_subscription(redis: Redis, subscription_id: str) -> SubscriptionPublic:
    stored = await redis.hget(SUBSCRIPTIONS, subscription_id)
    if stored is None:
        raise SubscriptionNotFoundError(f"no subscription {subscription_id!r}")
    return _public(orjson.loads(stored))


async def delete_subscription(redis: Redis, subscription_id: str) -> None:
    if not await redis.hdel(SUBSCRIPTIONS, subscription_id):
        raise SubscriptionNotFoundError(f"no subscription {subscription_id!r}")


def _public(record: dict[str, Any]) -> SubscriptionPublic:
    # model_validate ignores the secret: SubscriptionPublic has no such field.
    return SubscriptionPublic.model_validate(record)
