"""HTTP ingestion: the same input events producers send to Kafka."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.api import examples
from services.api.deps import IngestAccess, ProducerDep, SettingsDep
from services.api.errors import error_responses
from services.api.ingest import ingest
from services.api.models import EventsAccepted, EventsRejected

router = APIRouter(prefix="/v1/events", tags=["events"])

_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An input event (see the JSON Schemas in schemas/generated/).",
    "required": ["id", "account_id", "type", "time"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 128},
        "account_id": {"type": "string", "minLength": 1, "maxLength": 128},
        "type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
    },
}
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _EVENT_SCHEMA,
                        {"type": "array", "items": _EVENT_SCHEMA, "minItems": 1, "maxItems": 1000},
                    ]
                },
                "examples": {
                    "one": {"summary": "One event", "value": examples.EVENTS[0]},
                    "batch": {"summary": "A batch", "value": examples.EVENTS},
                },
            }
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=EventsAccepted,
    responses={
        422: {"model": EventsRejected, "description": "Invalid events; none produced."},
        **error_responses(401, 403, 413, 503),
    },
    openapi_extra=_REQUEST_BODY,
)
async def post_events(
    request: Request, _: IngestAccess, producer: ProducerDep, settings: SettingsDep
) -> EventsAccepted:
    """Validate one event or a JSON array of up to 1,000 against the contract and
    produce each to its topic (by `type`), keyed by `account_id`.

    **All-or-nothing:** if any item is invalid the answer is 422 with every
    invalid item's index, id and errors, and *nothing* is produced. On 202 every
    event was acknowledged by Kafka (acks=all). Re-sending is safe: the worker
    drops events whose `id` it has already seen. Bodies over 1 MiB get 413.
    """
    return await ingest(await request.body(), producer, settings.max_batch_events)
