"""Third-party webhooks: Stripe events and Segment calls, as our input events.

Thin: authenticate, parse, hand over to ``services.api.sources`` (mapping and
intake). The body size limit of ``BodyLimitMiddleware`` applies as on
``POST /v1/events``, and a Segment batch has the same event-count limit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from services.api import examples
from services.api.deps import IngestAccessBasic, ProducerDep, RedisDep, SettingsDep
from services.api.errors import SourceNotConfiguredError, error_responses
from services.api.ingest import check_count, load_json
from services.api.models import EventsRejected, SourceAccepted
from services.api.sources import segment
from services.api.sources.intake import accept, accept_stripe
from services.api.sources.stripe_webhook import verify

router = APIRouter(prefix="/v1/sources", tags=["sources"])

_ACCEPTED = "Acknowledged: mapped events produced, other messages skipped with a reason."
_REJECTED = {"model": EventsRejected, "description": "A mapped event broke the contract."}


def _body(*named: tuple[str, str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "examples": {key: {"summary": s, "value": v} for key, s, v in named},
                }
            },
        }
    }


@router.post(
    "/stripe",
    status_code=202,
    summary="Receive a Stripe webhook event",
    response_model=SourceAccepted,
    responses={
        202: {"description": _ACCEPTED},
        400: {"description": "Missing, wrong or stale Stripe-Signature (older than 300 s)."},
        409: {"description": "The same Stripe event is being processed: Stripe retries."},
        422: _REJECTED,
        **error_responses(413, 503),
    },
    openapi_extra=_body(("payment_failed", "invoice.payment_failed", examples.STRIPE_EVENT)),
)
async def post_stripe(
    request: Request,
    producer: ProducerDep,
    redis: RedisDep,
    settings: SettingsDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> SourceAccepted:
    """Point a Stripe webhook endpoint here. The `Stripe-Signature` header is
    the authentication (Stripe cannot send an API key): it is checked with the
    endpoint's signing secret, `HEALTHSCORE_STRIPE_WEBHOOK_SECRET` (503 while
    unset), and a timestamp older than 300 s is rejected.

    Mapped: `invoice.payment_failed`, `invoice.payment_succeeded`,
    `customer.subscription.deleted`, `customer.source.expiring` and
    `invoice.upcoming`, to `cs.billing.v1`. Other types are acknowledged
    (`skipped`) and counted. The account is `metadata.account_id` of the
    invoice, subscription or customer, else the Stripe customer id. A Stripe
    event already produced is answered `duplicate: true` and not produced again.
    """
    secret = settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        raise SourceNotConfiguredError(
            "HEALTHSCORE_STRIPE_WEBHOOK_SECRET is not set: Stripe events cannot be verified"
        )
    event = verify(
        await request.body(), stripe_signature, secret, settings.stripe_tolerance_seconds
    )
    return await accept_stripe(event, redis, producer, settings.stripe_dedupe_seconds)


@router.post(
    "/segment",
    status_code=202,
    summary="Receive Segment track, identify and group calls",
    response_model=SourceAccepted,
    responses={
        202: {"description": _ACCEPTED},
        422: _REJECTED,
        **error_responses(401, 403, 413, 503),
    },
    openapi_extra=_body(
        ("track", "One track call", examples.SEGMENT_TRACK),
        ("batch", "A batch envelope", examples.SEGMENT_BATCH),
    ),
)
async def post_segment(
    request: Request, _: IngestAccessBasic, producer: ProducerDep, settings: SettingsDep
) -> SourceAccepted:
    """Point Segment's Webhooks (Actions) destination here with the header
    `Authorization: Bearer <API key with the ingest scope>` (or the key as the
    HTTP Basic user name). Takes one call, a `{"batch": [...]}` envelope or a
    JSON array, up to 1,000 calls.

    `track` becomes `login` (names in `HEALTHSCORE_SEGMENT_LOGIN_EVENTS`) or
    `feature_used`; `identify` and `group` with a `name` and `segment` trait
    become `account_upserted`. The account is `groupId`, `context.groupId` or
    `traits.account_id`. Calls without an account, and other call types, are
    acknowledged (`skipped`) and counted; a mapped call that breaks the contract
    gets 422 and nothing in the request is produced.
    """
    calls = segment.calls_of(load_json(await request.body()))
    check_count(len(calls), settings.max_batch_events)
    logins = segment.login_names(settings.segment_login_events)
    return await accept(segment.SOURCE, [segment.map_call(c, logins) for c in calls], producer)
