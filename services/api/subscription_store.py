"""Subscriptions in Redis, in the layout the notifier reads (REDIS_LAYOUT.md),
and on ``cs.subscriptions.v1``, their durable copy (``subscription_log``).

``hs:subscriptions`` HASH: field = subscription id, value = JSON with the
signing secret. The secret is generated here, returned once by the create
call, and stripped from every later read. Every change reaches Kafka before
Redis: a subscription the notifier acts on is always one a rebuild restores,
and a failed produce changes nothing (503, retry).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from redis.asyncio import Redis

from schemas.topics import SUBSCRIPTIONS as SUBSCRIPTIONS_TOPIC
from services.api.errors import SubscriptionKeysMissingError, SubscriptionNotFoundError
from services.api.models import SubscriptionCreate, SubscriptionCreated, SubscriptionPublic
from services.api.producer import EventProducer, Outgoing
from services.readmodel.subscription_log import KEYS_ENV, REDIS_KEY, SecretSealer, to_record

SUBSCRIPTIONS: Final = REDIS_KEY
_SECRET_BYTES: Final = 24


def new_subscription_id() -> str:
    return f"sub_{secrets.token_hex(12)}"


def new_webhook_secret() -> str:
    """``whsec_`` + base64 of random bytes: the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


async def create_subscription(
    redis: Redis,
    producer: EventProducer,
    sealer: SecretSealer | None,
    body: SubscriptionCreate,
    now: datetime | None = None,
) -> SubscriptionCreated:
    if body.channel == "webhook" and sealer is None:
        raise SubscriptionKeysMissingError(
            f"{KEYS_ENV} is not set: webhook secrets cannot be stored durably"
        )
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
    key = record["id"].encode()
    await producer.send_all([Outgoing(SUBSCRIPTIONS_TOPIC, key, to_record(record, sealer))])
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


async def delete_subscription(redis: Redis, producer: EventProducer, subscription_id: str) -> None:
    if not await redis.hexists(SUBSCRIPTIONS, subscription_id):
        raise SubscriptionNotFoundError(f"no subscription {subscription_id!r}")
    # The tombstone first: a delete Redis saw but Kafka did not would come back on a rebuild.
    await producer.send_all([Outgoing(SUBSCRIPTIONS_TOPIC, subscription_id.encode(), None)])
    await redis.hdel(SUBSCRIPTIONS, subscription_id)


def _public(record: dict[str, Any]) -> SubscriptionPublic:
    # model_validate ignores the secret: SubscriptionPublic has no such field.
    return SubscriptionPublic.model_validate(record)
