"""The edge of ``POST /v1/sources/stripe``: Stripe's signature, and replays.

The signature is checked by the ``stripe`` library (``WebhookSignature``):
HMAC-SHA256 of ``"{t}.{body}"`` with the endpoint's signing secret, compared in
constant time against every ``v1=`` in ``Stripe-Signature``, and a timestamp
older than the tolerance rejected, which bounds how long a captured delivery
can be replayed.

Within that window a replay still verifies. The worker would drop its input
event by id anyway (the id is derived from Stripe's event id), but answering
"duplicate" here is one Redis command and keeps a replay, or one of Stripe's own
retries, from costing a produce and a trip through the worker. A delivery is
first claimed for ``IN_FLIGHT_SECONDS`` and marked done for the dedupe TTL
only after the broker acknowledged, so a crash or a broker error between claim
and produce never makes Stripe's next retry look like a duplicate: the claim
is released on error, or expires. A second delivery arriving while the first
is in flight gets 409, which Stripe retries, rather than a 2xx that would
stop Stripe retrying should the first one fail. If Redis is unreachable the
check is skipped: the id dedupe downstream is the guarantee, this is the
shortcut.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError
from stripe import SignatureVerificationError, WebhookSignature

from services.api.errors import DeliveryInFlightError, InvalidSignatureError
from services.api.ingest import load_json

log = logging.getLogger(__name__)

IN_FLIGHT_SECONDS: Final = 60
_KEY_PREFIX: Final = "hs:sources:stripe:"
_PENDING, _DONE = "pending", "done"


def verify(body: bytes, header: str | None, secret: str, tolerance_s: int) -> dict[str, Any]:
    """The parsed event if ``Stripe-Signature`` signs ``body`` with ``secret``
    within ``tolerance_s`` seconds; else ``InvalidSignatureError`` saying which check failed."""
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignatureError("body is not UTF-8, so it cannot be a Stripe event") from None
    try:
        WebhookSignature.verify_header(payload, header, secret, tolerance_s)
    except SignatureVerificationError as exc:
        raise InvalidSignatureError(_explain(exc, tolerance_s)) from None
    event = load_json(body)
    if not isinstance(event, dict):
        raise InvalidSignatureError("a signed body that is not a Stripe event object")
    return event


def _explain(exc: SignatureVerificationError, tolerance_s: int) -> str:
    message = str(exc.user_message or exc)
    if "tolerance" in message:
        return (
            f"Stripe-Signature timestamp is more than {tolerance_s} s old: a replayed "
            "or delayed delivery (check this server's clock)"
        )
    if "matching" in message:
        return "Stripe-Signature does not match the body: check HEALTHSCORE_STRIPE_WEBHOOK_SECRET"
    return f"Stripe-Signature rejected: {message.split('. ')[0]}"


@asynccontextmanager
async def delivery(
    redis: Redis, event_id: str, ttl_s: int
) -> AsyncIterator[Literal["new", "duplicate"]]:
    """Yields ``"duplicate"`` if this Stripe event was already produced; else
    claims it, and on a clean exit remembers it for ``ttl_s`` seconds."""
    key = f"{_KEY_PREFIX}{event_id}"
    try:
        claimed = await redis.set(key, _PENDING, nx=True, ex=IN_FLIGHT_SECONDS)
        state = None if claimed else await redis.get(key)
    except RedisError as exc:
        log.warning("Stripe replay check skipped, Redis unavailable: %s", type(exc).__name__)
        yield "new"
        return
    if state == _DONE:
        yield "duplicate"
        return
    if not claimed:
        raise DeliveryInFlightError(f"Stripe event {event_id} is being processed: retry later")
    try:
        yield "new"
    except BaseException:
        await _quietly(redis.delete(key))
        raise
    await _quietly(redis.set(key, _DONE, ex=ttl_s))


async def _quietly(command: Any) -> None:
    """A best-effort write: losing it only costs a dedupe the worker also does."""
    try:
        await command
    except RedisError as exc:
        log.warning("Stripe replay marker not written: %s", type(exc).__name__)
