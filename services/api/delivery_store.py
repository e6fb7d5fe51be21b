"""Dead deliveries (written by the notifier) and their re-drive, per REDIS_LAYOUT.md.

``hs:deliveries:dead`` HASH: field = delivery id, value = JSON record.
Re-drive moves one record back onto the ``hs:deliveries`` stream with attempt
"0" in a WATCH/MULTI transaction, so two concurrent re-drives enqueue it once.
The enqueued/done markers are left alone: "done" means delivered.
"""

from __future__ import annotations

import time
from typing import Any, Final, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.api.errors import DeadDeliveryNotFoundError
from services.api.models import DeadDeliveryPublic

DEAD: Final = "hs:deliveries:dead"
DELIVERIES: Final = "hs:deliveries"


async def list_dead(
    redis: Redis, after: str | None, limit: int
) -> tuple[list[DeadDeliveryPublic], str | None]:
    """Dead deliveries ordered by id, strictly after ``after``."""
    keys = cast(list[str], await redis.hkeys(DEAD))
    ids = sorted(i for i in keys if after is None or i > after)
    page, more = ids[:limit], len(ids) > limit
    values = await redis.hmget(DEAD, page) if page else []
    items = [_public(i, orjson.loads(v)) for i, v in zip(page, values, strict=True) if v]
    return items, (page[-1] if more else None)


async def redrive(redis: Redis, delivery_id: str) -> str:
    """Queue a dead delivery again; returns the new stream entry id."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(DEAD)
                stored = await pipe.hget(DEAD, delivery_id)
                if stored is None:
                    raise DeadDeliveryNotFoundError(f"no dead delivery {delivery_id!r}")
                record = orjson.loads(stored)
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.xadd(DELIVERIES, _stream_entry(delivery_id, record))  # type: ignore[arg-type]
                pipe.hdel(DEAD, delivery_id)
                stream_id, _ = await pipe.execute()
                return str(stream_id)
            except WatchError:
                continue


def _stream_entry(delivery_id: str, record: dict[str, Any]) -> dict[str, str]:
    event = record.get("event")
    return {
        "delivery_id": delivery_id,
        "subscription_id": str(record.get("subscription_id", "")),
        # The stream carries the CloudEvent JSON text exactly as read from Kafka.
        "event": event if isinstance(event, str) else orjson.dumps(event).decode(),
        "attempt": "0",
        "enqueued_at": repr(time.time()),
    }


def _public(delivery_id: str, record: dict[str, Any]) -> DeadDeliveryPublic:
    event = record.get("event")
    if isinstance(event, str):
        try:
            event = orjson.loads(event)
        except orjson.JSONDecodeError:
            event = None
    return DeadDeliveryPublic.model_validate(
        {**record, "delivery_id": delivery_id, "event": event if isinstance(event, dict) else None}
    )
