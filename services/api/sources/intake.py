"""From mapped third-party messages to produced input events, with the counts.

Mapped events take the ``POST /v1/events`` path (``services.api.ingest``):
validated against ``schemas/`` all-or-nothing, then produced. Skipped messages
are acknowledged with their reason in the answer and the
``healthscore_source_events_total`` metric, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from services.api.errors import InvalidBatchError
from services.api.ingest import produce, validate_items
from services.api.metrics import SOURCE_EVENTS
from services.api.models import SourceAccepted, SourceSkipped
from services.api.producer import EventProducer
from services.api.sources import stripe
from services.api.sources.common import Mapped, Outcome, Skipped, text
from services.api.sources.stripe_webhook import delivery


async def accept(source: str, mapped: Sequence[Mapped], producer: EventProducer) -> SourceAccepted:
    """Validate and produce the mapped events; report the skipped ones.

    Error indices in a 422 are positions in the request (the sender's batch),
    not in the list of mapped events."""
    positions = [i for i, m in enumerate(mapped) if not isinstance(m, Skipped)]
    try:
        ids, messages = validate_items([mapped[i] for i in positions])
    except InvalidBatchError as exc:
        for error in exc.errors:
            error["index"] = positions[error["index"]]
        _count(source, "invalid", len(exc.errors))
        raise
    accepted = await produce(producer, ids, messages)
    skipped = [
        SourceSkipped(index=i, reason=m.reason, detail=m.detail)
        for i, m in enumerate(mapped)
        if isinstance(m, Skipped)
    ]
    _count(source, "mapped", len(positions))
    for skip in skipped:
        _count(source, skip.reason, 1)
    return SourceAccepted(accepted=accepted.accepted, ids=accepted.ids, skipped=skipped)


async def accept_stripe(
    event: dict[str, Any], redis: Redis, producer: EventProducer, dedupe_s: int
) -> SourceAccepted:
    """Map one verified Stripe event and produce it, once per Stripe event id."""
    mapped = stripe.map_event(event)
    event_id = text(event.get("id"))
    if isinstance(mapped, Skipped) or event_id is None:
        return await accept(stripe.SOURCE, [mapped], producer)
    async with delivery(redis, event_id, dedupe_s) as state:
        if state == "duplicate":
            _count(stripe.SOURCE, "duplicate", 1)
            return SourceAccepted(accepted=0, ids=[], duplicate=True)
        return await accept(stripe.SOURCE, [mapped], producer)


def _count(source: str, outcome: Outcome, n: int) -> None:
    if n:
        SOURCE_EVENTS.labels(source=source, outcome=outcome).inc(n)
