"""``cs.dunning.v1``: failed-payment recovery steps and reminders."""

from __future__ import annotations

from pydantic import Field

from schemas.cloudevents import TYPE_PREFIX, CloudEvent
from schemas.common import Identifier, OutputModel, Timestamp

#: Known steps; the type is ``io.healthscore.dunning.<step>``.
DUNNING_STEPS: tuple[str, ...] = (
    "payment_failed_notice",
    "retry_scheduled",
    "update_card_requested",
    "grace_started",
    "restricted",
    "escalated",
    "canceled",
    "recovered",
    "renewal_reminder",
    "card_expiry_reminder",
)


def dunning_event_type(step: str) -> str:
    return f"{TYPE_PREFIX}dunning.{step}"


class DunningStepTaken(OutputModel):
    account_id: Identifier
    step: str = Field(pattern=r"^[a-z_]+$")
    invoice_id: str | None = None
    state: str | None = Field(default=None, description="Case state after this step.")
    attempt: int = Field(default=0, ge=0)
    next_due_at: Timestamp | None = None
    amount_cents: int | None = None
    currency: str | None = None
    decline_code: str | None = None
    update_payment_url: str | None = None
    renewal_at: Timestamp | None = None
    card_expires_at: Timestamp | None = None
    days_before: int | None = None
    owner: str | None = None
    segment: str | None = None
    name: str | None = None
    arr_cents: int | None = None
    caused_at: Timestamp


DunningEvent = CloudEvent[DunningStepTaken]
