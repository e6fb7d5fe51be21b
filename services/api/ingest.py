"""``POST /v1/events``: validate a whole batch, then produce all of it.

All-or-nothing on validation: one bad item rejects the request with every
item's errors and nothing is produced, so a client never has to work out
which half of a batch went through. Items are forwarded as the client sent
them (already validated), keyed by ``account_id``, each to its type's topic.
"""

from __future__ import annotations

from typing import Any

import orjson

from schemas.errors import InvalidEventError
from schemas.inputs import topic_of, validate_python
from services.api.errors import InvalidBatchError, RequestTooLargeError
from services.api.metrics import EVENTS_INGESTED
from services.api.models import EventsAccepted
from services.api.producer import EventProducer, Outgoing


def parse_batch(body: bytes, max_events: int) -> tuple[list[str], list[Outgoing]]:
    """(event ids, messages to produce), or ``InvalidBatchError`` listing every bad item."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidBatchError(f"body is not valid JSON: {exc}", []) from None
    items: list[Any] = payload if isinstance(payload, list) else [payload]
    if not items:
        raise InvalidBatchError("no events in the request", [])
    if len(items) > max_events:
        raise RequestTooLargeError(f"{len(items)} events, over the {max_events}-event limit")
    ids: list[str] = []
    messages: list[Outgoing] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            event = validate_python(item)
        except InvalidEventError as exc:
            errors.append({"index": index, "id": _id_of(item), "errors": exc.errors})
            continue
        ids.append(event.id)
        messages.append(Outgoing(topic_of(event), event.account_id.encode(), orjson.dumps(item)))
    if errors:
        raise InvalidBatchError(
            f"{len(errors)} of {len(items)} events are invalid; nothing was accepted", errors
        )
    return ids, messages


async def ingest(body: bytes, producer: EventProducer, max_events: int) -> EventsAccepted:
    ids, messages = parse_batch(body, max_events)
    await producer.send_all(messages)
    for message in messages:
        EVENTS_INGESTED.labels(topic=message.topic).inc()
    return EventsAccepted(accepted=len(messages), ids=ids)


def _id_of(item: Any) -> Any:
    if isinstance(item, dict):
        value = item.get("id")
        return value if isinstance(value, str | int | float) or value is None else str(value)
    return None
