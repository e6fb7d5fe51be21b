"""HTTP models, split by direction like the template's ItemCreate / ItemPublic.

``*Create`` are request bodies (strict, extra fields rejected); ``*Public``
are what a response shows. Event shapes come from ``schemas/``: the health and
alert responses extend the contract models rather than restating them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.alerts import AlertEvent
from schemas.health import HealthChanged
from services.api import examples
from services.api.sources.common import SkipReason

Channel = Literal["webhook", "slack", "email"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class AccountHealthPublic(HealthChanged):
    """The latest score with its explanation (the ``cs.health.v1`` payload)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.HEALTH_PUBLIC]})

    event_id: str = Field(description="CloudEvent id of the health change shown.")
    event_time: datetime = Field(description="Event time of the change's cause.")


class AccountSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ACCOUNT_SUMMARY]})

    account_id: str
    score: float
    band: str
    segment: str | None = None
    owner: str | None = None
    name: str | None = None
    arr_cents: int | None = None
    model_version: str
    as_of: datetime
    previous_score: float | None = None
    change: float = Field(0.0, description="Score minus the previous score.")
    days_at_risk: int | None = Field(
        None, description="Whole days in the at-risk band as of the latest score; null if not."
    )
    reasons: list[str] = Field(default_factory=list, description="Why, in plain words.")
    stage: str | None = Field(None, description="Lifecycle stage: onboarding, active, churned.")
    plan: str | None = None
    industry: str | None = None
    renewal_at: datetime | None = None


class AlertPublic(AlertEvent):
    """An alert as published on ``cs.alerts.v1``, plus its feed cursor."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT_PUBLIC]})

    cursor: str = Field(description="Position in the feed; also the SSE id (Last-Event-ID).")


class DunningCasePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.DUNNING_CASE]})

    invoice_id: str
    state: str | None = None
    last_step: str
    next_step: str | None = Field(None, description="Name of the next step when known.")
    next_due_at: datetime | None = Field(None, description="When the next step is due.")
    attempt: int = 0
    amount_cents: int | None = None
    currency: str | None = None
    decline_code: str | None = None
    update_payment_url: str | None = None
    updated_at: datetime
    event_id: str


class DunningPublic(BaseModel):
    account_id: str
    open_cases: list[DunningCasePublic]


class EventsAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accepted": 2, "ids": ["u-1", "b-3"]}]}
    )

    accepted: int
    ids: list[str]


class SourceSkipped(BaseModel):
    index: int = Field(description="Position of the call in the request (0 for one event).")
    reason: SkipReason
    detail: str


class SourceAccepted(EventsAccepted):
    """What a third-party payload became: the input events produced, and the
    messages acknowledged without producing anything, with the reason."""

    model_config = ConfigDict(json_schema_extra={"examples": list(examples.SOURCE_ACCEPTED)})

    duplicate: bool = Field(
        False, description="This Stripe event was already produced: nothing new was."
    )
    skipped: list[SourceSkipped] = Field(default_factory=list)


class ItemError(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for a single event).")
    id: Any = Field(None, description="The item's `id` field when it had one.")
    errors: list[str]


class EventsRejected(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.EVENTS_REJECTED]})

    detail: str
    errors: list[ItemError]


class SubscriptionFilters(BaseModel):
    """All given filters must match; an empty list matches everything."""

    model_config = ConfigDict(extra="forbid")

    types: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="CloudEvent types or prefixes, e.g. `io.healthscore.alert.`.",
    )
    segments: list[str] = Field(default_factory=list, max_length=50)
    owners: list[str] = Field(default_factory=list, max_length=500)
    min_arr_cents: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _types_are_ours(self) -> SubscriptionFilters:
        for t in self.types:
            if not t.startswith("io.healthscore.") or len(t) > 128:
                raise ValueError(f"type {t!r} must start with 'io.healthscore.'")
        return self


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [examples.SUBSCRIPTION_CREATE]}
    )

    channel: Channel
    target: str = Field(
        min_length=3,
        max_length=2048,
        description="https URL (webhook, slack; http only to localhost) or an email address.",
    )
    filters: SubscriptionFilters = Field(default_factory=SubscriptionFilters)
    description: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _target_fits_channel(self) -> SubscriptionCreate:
        if self.channel == "email":
            if not _EMAIL.match(self.target) or len(self.target) > 254:
                raise ValueError("target must be an email address for the email channel")
        elif not is_allowed_url(self.target):
            raise ValueError("target must be an https URL (http only for 127.0.0.1/localhost)")
        return self


def is_allowed_url(url: str) -> bool:
    """https anywhere; plain http only to this machine (local testing)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    if not parts.hostname or any(c.isspace() for c in url):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS)


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.SUBSCRIPTION_PUBLIC]})

    id: str
    channel: Channel
    target: str
    filters: SubscriptionFilters
    description: str | None = None
    created_at: datetime
    active: bool = True


class SubscriptionCreated(SubscriptionPublic):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.SUBSCRIPTION_CREATED]})

    secret: str | None = Field(
        None, description="Webhook signing secret (Standard Webhooks). Shown only here, once."
    )


class SubscriptionList(BaseModel):
    items: list[SubscriptionPublic]


class DeadDeliveryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.DEAD_DELIVERY]})

    delivery_id: str
    subscription_id: str
    channel: str | None = None
    attempts: int | None = None
    last_error: str | None = None
    failed_at: datetime | None = None
    event: dict[str, Any] | None = Field(None, description="The CloudEvent that failed.")


class RedriveAccepted(BaseModel):
    delivery_id: str
    queued_as: str = Field(description="Id of the new entry on the delivery stream.")


class ReadyStatus(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]
