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


ALL_CASES = "*"

Op = PutHealth | PutAlert | PutDunning
