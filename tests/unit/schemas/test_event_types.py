"""Every event type the contract names fits the CloudEvent ``type`` pattern."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.touchpoints import (
    TOUCHPOINT_KINDS,
    TouchpointDue,
    TouchpointEvent,
    touchpoint_event_type,
)


@pytest.mark.parametrize("kind", TOUCHPOINT_KINDS)
def test_every_touchpoint_type_is_a_valid_cloudevent_type(kind: str) -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    data = TouchpointDue(account_id="acme", kind=kind, summary="s", caused_at=at)  # type: ignore[arg-type]
    event = TouchpointEvent(
        id="t-1",
        type=touchpoint_event_type(kind),
        subject="acme",
        time=at,
        data=data,  # type: ignore[arg-type]
    )
    assert event.type.endswith(kind)
