"""Where alerts and dunning events are delivered (read by the notifier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.api import subscription_store
from services.api.deps import AdminAccess, ProducerDep, RedisDep, SealerDep
from services.api.errors import error_responses
from services.api.models import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionPublic,
)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

SubscriptionId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionCreated,
    responses=error_responses(401, 403, 413, 503),
)
async def create_subscription(
    body: SubscriptionCreate,
    _: AdminAccess,
    redis: RedisDep,
    producer: ProducerDep,
    sealer: SealerDep,
) -> SubscriptionCreated:
    """Subscribe a webhook, Slack incoming webhook or email address. A webhook's
    signing secret (Standard Webhooks, `whsec_...`) is in this response only: store it."""
    return await subscription_store.create_subscription(redis, producer, sealer, body)


@router.get("", response_model=SubscriptionList, responses=error_responses(401, 403))
async def list_subscriptions(_: AdminAccess, redis: RedisDep) -> SubscriptionList:
    """Every subscription, oldest first; secrets are never shown again."""
    return SubscriptionList(items=await subscription_store.list_subscriptions(redis))


@router.get(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    responses=error_responses(401, 403, 404),
)
async def read_subscription(
    subscription_id: SubscriptionId, _: AdminAccess, redis: RedisDep
) -> SubscriptionPublic:
    """One subscription (without its secret)."""
    return await subscription_store.get_subscription(redis, subscription_id)


@router.delete("/{subscription_id}", status_code=204, responses=error_responses(401, 403, 404, 503))
async def delete_subscription(
    subscription_id: SubscriptionId, _: AdminAccess, redis: RedisDep, producer: ProducerDep
) -> Response:
    """Stop deliveries to this subscription; deliveries already queued may still go out."""
    await subscription_store.delete_subscription(redis, producer, subscription_id)
    return Response(status_code=204)
