"""The alert feed: a paginated history and a live Server-Sent Events stream."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse

from schemas.alerts import AlertType
from services.api import queries
from services.api.deps import ReadAccess, SettingsDep, StoreDep
from services.api.errors import error_responses
from services.api.models import AlertPublic
from services.api.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

AccountFilter = Annotated[str | None, Query(min_length=1, max_length=128)]
TypeFilter = Annotated[AlertType | None, Query(alias="type", description="Alert name.")]

_SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`event: alert`, `id:` = the alert's cursor, `data:` = the CloudEvent JSON.",
        "content": {
            "text/event-stream": {
                "schema": {"type": "string"},
                "example": (
                    'id: 1764000000000-0\nevent: alert\ndata: {"specversion":"1.0","id":"...",'
                    '"type":"io.healthscore.alert.health_below_threshold", ...}\n\n'
                ),
            }
        },
    },
    **error_responses(400, 401, 403),
}


@router.get("", response_model=Page[AlertPublic], responses=error_responses(400, 401, 403))
async def list_alerts(
    _: ReadAccess,
    store: StoreDep,
    account_id: AccountFilter = None,
    alert_type: TypeFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AlertPublic]:
    """Alerts newest first. A page's `next_cursor` continues strictly before its
    last alert; the feed keeps the most recent alerts only (capped)."""
    return await queries.list_alerts(store, account_id, alert_type, cursor, limit)


@router.get("/stream", response_class=EventSourceResponse, responses=_SSE_RESPONSE)
async def stream_alerts(
    _: ReadAccess,
    store: StoreDep,
    settings: SettingsDep,
    account_id: AccountFilter = None,
    alert_type: TypeFilter = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=64,
            description="Resume after this alert (browsers send it on reconnect).",
        ),
    ] = None,
) -> EventSourceResponse:
    """New alerts as they arrive, with keep-alive pings. With `Last-Event-ID`
    the stream first replays every alert after that id, then goes live."""
    events = queries.alert_events(
        store, last_event_id, account_id, alert_type, settings.sse_block_ms
    )
    return EventSourceResponse(events, ping=settings.sse_ping_seconds)
