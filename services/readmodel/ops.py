"""The writes the projector asks the store to make, as plain values.

The projector's decision ("what does this Kafka record change?") is a pure
function returning these; ``store.apply_ops`` performs them. Keeping the key
layout out of them means the decision can be unit-tested without Redis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PutHealth:
    """Replace an account's latest health unless the stored one is newer.

    ``as_of_us`` orders scores (the worker's event-time watermark);
    ``time_us`` breaks ties. Equal versions re-apply, which is harmless: it is
    the same record read again, or a later record of the same partition.
    """

    account_id: str
    score: float
    band: str
    segment: str | None
    owner: str | None
    as_of_us: int
    time_us: int
    doc: str
    arr_cents: int | None = None
    #: score - previous score (0 for a first score): the "change" the at-risk list sorts by.
    change: float = 0.0
    month: str = ""  # YYYY-MM of ``as_of``: where a first score or an ARR change is counted


@dataclass(frozen=True, slots=True)
class PutAlert:
    """Append an alert to the feed once per CloudEvent id."""

    event_id: str
    account_id: str
    alert_type: str
    event_json: str


@dataclass(frozen=True, slots=True)
class PutDunning:
    """Open, update or close one dunning case of an account.

    ``case_id`` is the invoice id; ``ALL_CASES`` closes every open case whose
    last step is not newer (a subscription cancel without an invoice).
    """

    account_id: str
    case_id: str
    version_us: int
    closes: bool
    doc: str | None
    step: str = ""
    month: str = ""  # YYYY-MM of the step: where a case opening or a recovery is counted


ALL_CASES = "*"


@dataclass(frozen=True, slots=True)
class PutHistory:
    """Keep the newest score of one day in the account's 90-day history."""

    account_id: str
    day: str  # YYYY-MM-DD of ``as_of`` (UTC)
    as_of_us: int
    time_us: int
    score: float
    band: str


@dataclass(frozen=True, slots=True)
class PutTimeline:
    """One entry of an account's timeline; the same event gives the same entry."""

    account_id: str
    time_ms: int
    entry: str  # JSON, deterministic from the event


@dataclass(frozen=True, slots=True)
class PutLifecycle:
    """A churn or a reactivation, counted once per CloudEvent id."""

    event_id: str
    account_id: str
    change: str
    version_us: int
    month: str  # YYYY-MM of the event time
    arr_cents: int
    #: (dimension, value) pairs the churn is counted under, e.g. ("segment", "smb").
    dimensions: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PutProfile:
    """An account's profile from ``cs.accounts.v1`` (plan, industry, renewal...)."""

    account_id: str
    version_us: int
    created_us: int | None
    plan: str | None
    industry: str | None
    doc: str


@dataclass(frozen=True, slots=True)
class PutPayment:
    """One payment attempt (``cs.billing.v1``), counted once per input id."""

    event_id: str
    month: str
    failed: bool


Op = (
    PutHealth
    | PutAlert
    | PutDunning
    | PutHistory
    | PutTimeline
    | PutLifecycle
    | PutProfile
    | PutPayment
)
