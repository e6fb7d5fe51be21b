"""The one ingest path: validate input events against ``schemas/``, then produce them.

``POST /v1/events`` sends the client's items through it as they came; the
third-party sources (``services/api/sources``) send the events they mapped
from Stripe or Segment payloads, so both get the same validation, the same
error report and the same produce.

All-or-nothing on validation: one bad item rejects the request with every
item's errors and nothing is produced, so a client never has to work out
which half of a batch went through. Items are forwarded as they were given
(already validated), keyed by ``account_id``, each to its type's topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from schemas.errors import InvalidEventError
from schemas.inputs import topic_of, validate_python
from services.api.errors import InvalidBatchError, RequestTooLargeError
from services.api.metrics import EVENTS_INGESTED
from services.api.models import EventsAccepted
from services.api.producer import EventProducer, Outgoing


def load_json(body: bytes) -> Any:
    """The parsed body, or ``InvalidBatchError`` saying why it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidBatchError(f"body is not valid JSON: {exc}", []) from None


def check_count(count: int, max_events: int) -> None:
    if count > max_events:
        raise RequestTooLargeError(f"{count} events, over the {max_events}-event limit")


def parse_batch(body: bytes, max_events: int) -> tuple[list[str], list[Outgoing]]:
    """(event ids, messages to produce), or ``InvalidBatchError`` listing every bad item."""
    payload = load_json(body)
    items: list[Any] = payload if isinstance(payload, list) else [payload]
    if not items:
        raise InvalidBatchError("no events in the request", [])
    check_count(len(items), max_events)
    return validate_items(items)


def validate_items(items: Sequence[Any]) -> tuple[list[str], list[Outgoing]]:
    """Validate every item; (ids, messages) if all pass, else ``InvalidBatchError``."""
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


async def produce(
    producer: EventProducer, ids: list[str], messages: list[Outgoing]
) -> EventsAccepted:
    """Send validated messages and wait for the broker's acknowledgement."""
    if messages:
        await producer.send_all(messages)
    for message in messages:
        EVENTS_INGESTED.labels(topic=message.topic).inc()
    return EventsAccepted(accepted=len(messages), ids=ids)


async def ingest(body: bytes, producer: EventProducer, max_events: int) -> EventsAccepted:
    return await produce(producer, *parse_batch(body, max_events))


def _id_of(item: Any) -> Any:
    if isinstance(item, dict):
        value = item.get("id")
        return value if isinstance(value, str | int | float) or value is None else str(value)
    return None
