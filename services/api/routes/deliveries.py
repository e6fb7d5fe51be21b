"""Dead deliveries: the ones the notifier gave up on, and their re-drive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.api import delivery_store
from services.api.deps import AdminAccess, RedisDep
from services.api.errors import error_responses
from services.api.models import DeadDeliveryPublic, RedriveAccepted
from services.api.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


@router.get(
    "/dead", response_model=Page[DeadDeliveryPublic], responses=error_responses(400, 401, 403)
)
async def list_dead_deliveries(
    _: AdminAccess, redis: RedisDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeadDeliveryPublic]:
    """Deliveries that failed every retry, ordered by delivery id."""
    after = decode_cursor(cursor, bool)
    items, last = await delivery_store.list_dead(redis, after, limit)
    return Page(items=items, next_cursor=encode_cursor(last) if last else None)


@router.post(
    "/dead/{delivery_id}/redrive",
    status_code=202,
    response_model=RedriveAccepted,
    responses=error_responses(401, 403, 404),
)
async def redrive_dead_delivery(
    delivery_id: Annotated[str, Path(min_length=1, max_length=512)],
    _: AdminAccess,
    redis: RedisDep,
) -> RedriveAccepted:
    """Queue a dead delivery again (attempt 0); it leaves the dead list."""
    queued_as = await delivery_store.redrive(redis, delivery_id)
    return RedriveAccepted(delivery_id=delivery_id, queued_as=queued_as)
