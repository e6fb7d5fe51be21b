"""Read-model queries behind the GET routes: store position <-> cursor, docs -> models.

Routes call one function here and return its result; this is the only module
that knows how a store document becomes an HTTP model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from sse_starlette import ServerSentEvent

from services.api.errors import AccountNotFoundError
from services.api.models import (
    AccountHealthPublic,
    AccountSummary,
    AlertPublic,
    DunningCasePublic,
    DunningPublic,
)
from services.api.pagination import Page, decode_cursor, encode_cursor, stream_position
from services.readmodel.store import ReadModelStore, is_score_member


async def account_health(store: ReadModelStore, account_id: str) -> AccountHealthPublic:
    doc = await store.get_health(account_id)
    if doc is None:
        raise AccountNotFoundError(f"no health score for account {account_id!r}")
    return _health_model(doc)


async def list_accounts(
    store: ReadModelStore, filters: dict[str, str | None], cursor: str | None, limit: int
) -> Page[AccountSummary]:
    after = decode_cursor(cursor, is_score_member)
    given = {k: v for k, v in filters.items() if v}
    docs, last = await store.list_accounts(given, after, limit)
    items = [AccountSummary.model_validate(d["data"]) for d in docs]
    return Page(items=items, next_cursor=encode_cursor(last) if last else None)


async def list_alerts(
    store: ReadModelStore,
    account_id: str | None,
    alert_type: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AlertPublic]:
    before = stream_position(cursor)
    found, last = await store.list_alerts(account_id, alert_type, before, limit)
    items = [_alert_model(stream_id, event) for stream_id, event in found]
    return Page(items=items, next_cursor=last)


async def dunning_cases(store: ReadModelStore, account_id: str) -> DunningPublic:
    cases = await store.get_dunning_cases(account_id)
    return DunningPublic(
        account_id=account_id,
        open_cases=[DunningCasePublic.model_validate(c) for c in cases],
    )


def alert_events(
    store: ReadModelStore,
    last_event_id: str | None,
    account_id: str | None,
    alert_type: str | None,
    block_ms: int,
) -> AsyncIterator[ServerSentEvent]:
    """Alerts after ``last_event_id`` (or from now on), forever.

    The id is checked here, before the stream starts, so a bad one is a 400
    rather than a broken stream.
    """
    start = stream_position(last_event_id)
    return _tail_alerts(store, start, account_id, alert_type, block_ms)


async def _tail_alerts(
    store: ReadModelStore,
    start: str | None,
    account_id: str | None,
    alert_type: str | None,
    block_ms: int,
) -> AsyncIterator[ServerSentEvent]:
    # The first message is a comment sent once the start position is fixed:
    # a client then knows every later alert will reach it.
    last = start or await store.latest_alert_id()
    yield ServerSentEvent(comment="connected")
    while True:
        for stream_id, fields in await store.read_alerts_after(last, block_ms):
            last = stream_id
            if account_id not in (None, fields.get("account_id")):
                continue
            if alert_type not in (None, fields.get("type")):
                continue
            yield ServerSentEvent(data=fields["event"], id=stream_id, event="alert")


def _health_model(doc: dict[str, Any]) -> AccountHealthPublic:
    return AccountHealthPublic.model_validate(
        {**doc["data"], "event_id": doc["event_id"], "event_time": doc["event_time"]}
    )


def _alert_model(stream_id: str, event_json: str) -> AlertPublic:
    return AlertPublic.model_validate({**orjson.loads(event_json), "cursor": stream_id})
