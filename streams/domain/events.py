"""Domain input events: what the pure core consumes.

The agents convert each validated schema model into one of these once, at the
edge, so the domain never imports pydantic, Faust or Kafka and can be driven
from a file (``healthscore replay``) exactly as from the live stream.

Times are tz-aware UTC ``datetime``s: the schemas reject naive timestamps, and
the edge normalises offsets to UTC so day buckets are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from streams.domain.frozen import fast_init

UsageKind: TypeAlias = Literal["login", "feature_used", "records_changed", "seats_changed"]
TicketKind: TypeAlias = Literal[
    "ticket_opened", "ticket_updated", "ticket_solved", "ticket_reopened"
]
Priority: TypeAlias = Literal["low", "normal", "high", "urgent"]
BillingKind: TypeAlias = Literal[
    "payment_failed",
    "payment_succeeded",
    "card_expiring",
    "renewal_scheduled",
    "subscription_canceled",
]
FeedbackKind: TypeAlias = Literal["nps_response", "csat_response"]
Segment: TypeAlias = Literal["free", "smb", "mid_market", "enterprise"]


@fast_init
@dataclass(frozen=True, slots=True)
class UsageEvent:
    """A product-usage fact; ``quantity`` is the records delta or the new seat count."""

    id: str
    account_id: str
    kind: UsageKind
    at: datetime
    user_id: str | None = None
    feature: str | None = None
    quantity: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class TicketEvent:
    """A support-ticket lifecycle fact; ``csat`` (1-5) only comes with a solve."""

    id: str
    account_id: str
    kind: TicketKind
    at: datetime
    ticket_id: str
    priority: Priority = "normal"
    csat: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class BillingEvent:
    """A billing fact. Which optional fields are set depends on ``kind``:
    invoice/amount/currency on payments, ``decline_code`` on failures,
    ``renewal_at`` on renewal_scheduled, ``card_expires_at`` on card_expiring,
    ``reason`` on subscription_canceled."""

    id: str
    account_id: str
    kind: BillingKind
    at: datetime
    invoice_id: str | None = None
    amount_cents: int | None = None
    currency: str | None = None
    decline_code: str | None = None
    renewal_at: datetime | None = None
    card_expires_at: datetime | None = None
    reason: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """A survey answer: NPS 0-10 or CSAT 1-5."""

    id: str
    account_id: str
    kind: FeedbackKind
    at: datetime
    score: int
    comment: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class AccountProfile:
    """The latest account profile (compacted topic): who owns it and what it is worth."""

    id: str
    account_id: str
    at: datetime
    name: str
    segment: Segment
    arr_cents: int = 0
    owner: str | None = None
    industry: str | None = None
    plan: str | None = None
    renewal_at: datetime | None = None
    created_at: datetime | None = None


DomainEvent: TypeAlias = UsageEvent | TicketEvent | BillingEvent | FeedbackEvent | AccountProfile
