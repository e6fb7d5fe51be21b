"""``cs.alerts.v1``: risk alerts, the events CSMs are paged for."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from schemas.cloudevents import TYPE_PREFIX, CloudEvent
from schemas.common import Identifier, OutputModel, Timestamp
from schemas.health import Band

AlertType = Literal[
    "health_below_threshold",
    "health_recovered",
    "sudden_drop",
    "inactivity",
    "onboarding_stalled",
    "usage_decline",
]
ALERT_TYPES: tuple[AlertType, ...] = get_args(AlertType)


def alert_event_type(alert: AlertType) -> str:
    return f"{TYPE_PREFIX}alert.{alert}"


class RiskAlertRaised(OutputModel):
    account_id: Identifier
    alert: AlertType
    score: float = Field(ge=0, le=100)
    previous_score: float | None = None
    band: Band
    threshold: float | None = None
    reasons: list[str] = Field(default_factory=list)
    owner: str | None = None
    segment: str | None = None
    name: str | None = None
    arr_cents: int | None = None
    caused_at: Timestamp = Field(description="Event time of the cause.")


AlertEvent = CloudEvent[RiskAlertRaised]
