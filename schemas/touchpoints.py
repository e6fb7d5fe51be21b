"""``cs.touchpoints.v1``: lifecycle moments a CSM should act on.

A touchpoint is a task for the account's owner, not a risk alert: it is routed to
the owner like an alert but says "now is the time to talk", so it has its own topic
and type family (``io.healthscore.touchpoint.<kind>``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.cloudevents import TYPE_PREFIX, CloudEvent
from schemas.common import Identifier, OutputModel, Timestamp

TouchpointKind = Literal[
    "onboarding_checkin",
    "milestone_30d",
    "milestone_90d",
    "milestone_1y",
    "renewal_in_90d",
    "expansion_signal",
    "referral_ask",
]
TOUCHPOINT_KINDS: tuple[TouchpointKind, ...] = (
    "onboarding_checkin",
    "milestone_30d",
    "milestone_90d",
    "milestone_1y",
    "renewal_in_90d",
    "expansion_signal",
    "referral_ask",
)


def touchpoint_event_type(kind: TouchpointKind) -> str:
    return f"{TYPE_PREFIX}touchpoint.{kind}"


class TouchpointDue(OutputModel):
    account_id: Identifier
    kind: TouchpointKind
    summary: str = Field(description="One plain-words line for the CSM.")
    score: float | None = Field(default=None, ge=0, le=100)
    owner: str | None = None
    segment: str | None = None
    name: str | None = None
    arr_cents: int | None = None
    renewal_at: Timestamp | None = None
    caused_at: Timestamp


TouchpointEvent = CloudEvent[TouchpointDue]
