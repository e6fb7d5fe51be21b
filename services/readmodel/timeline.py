"""Timeline entries: one plain-words line per event that matters to a CSM.

An entry is a JSON object built only from its event (id, kind, type, time,
title, detail), so a replayed record produces byte-identical JSON and the
timeline's sorted set keeps a single copy of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import orjson

from schemas.alerts import AlertEvent
from schemas.dunning import DunningEvent
from schemas.health import HealthEvent
from schemas.lifecycle import LifecycleEvent
from schemas.touchpoints import TouchpointEvent
from services.readmodel.ops import PutTimeline

#: A score move smaller than this (in points) is not worth a timeline line.
SCORE_MOVE_POINTS: Final = 5.0
_DETAIL_CHARS: Final = 300


def health_entry(event: HealthEvent) -> PutTimeline | None:
    """A line for a first score or a move of at least ``SCORE_MOVE_POINTS``."""
    data = event.data
    if data.previous_score is None:
        title = f"First score: {data.score:.0f} ({_words(data.band)})"
    else:
        delta = data.score - data.previous_score
        if abs(delta) < SCORE_MOVE_POINTS:
            return None
        title = (
            f"Score {'fell' if delta < 0 else 'rose'} {abs(delta):.0f} points to {data.score:.0f}"
        )
    return _entry(event.id, "health", event.type, event.time, data.account_id, title,
                  "; ".join(data.reasons))  # fmt: skip


def alert_entry(event: AlertEvent) -> PutTimeline:
    data = event.data
    title = f"Alert: {_words(data.alert)} (score {data.score:.0f})"
    return _entry(event.id, "alert", event.type, event.time, data.account_id, title,
                  "; ".join(data.reasons))  # fmt: skip


def dunning_entry(event: DunningEvent) -> PutTimeline:
    data = event.data
    title = f"Dunning: {_words(data.step)}"
    facts = [f"invoice {data.invoice_id}" if data.invoice_id else ""]
    if data.amount_cents is not None:
        facts.append(f"{data.amount_cents / 100:,.2f} {data.currency or ''}".strip())
    if data.decline_code:
        facts.append(_words(data.decline_code))
    return _entry(event.id, "dunning", event.type, event.time, data.account_id, title,
                  ", ".join(f for f in facts if f))  # fmt: skip


def touchpoint_entry(event: TouchpointEvent) -> PutTimeline:
    data = event.data
    return _entry(event.id, "touchpoint", event.type, event.time, data.account_id,
                  f"Touchpoint: {_words(data.kind)}", data.summary)  # fmt: skip


def lifecycle_entry(event: LifecycleEvent) -> PutTimeline:
    data = event.data
    if data.change == "churned":
        title = f"Churned ({data.kind or 'unknown kind'})"
        detail = data.reason or ""
    else:
        title, detail = "Reactivated", ""
    if data.arr_cents:
        detail = f"{detail}; ARR {data.arr_cents / 100:,.0f}".lstrip("; ")
    return _entry(event.id, "lifecycle", event.type, event.time, data.account_id, title, detail)


def _entry(
    event_id: str,
    kind: str,
    event_type: str,
    time: datetime,
    account_id: str,
    title: str,
    detail: str,
) -> PutTimeline:
    doc = {
        "id": event_id,
        "kind": kind,
        "type": event_type,
        "time": time.isoformat(),
        "title": title,
        "detail": detail[:_DETAIL_CHARS],
    }
    time_ms = int(time.timestamp() * 1000)
    return PutTimeline(account_id, time_ms, orjson.dumps(doc).decode())


def _words(name: str) -> str:
    return name.replace("_", " ")
