"""Point-in-time views for the gauges: accounts by band, open dunning cases by
state. Computed from the engines' in-memory accounts on a timer, never on the
per-message path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from streams.domain.dunning.policy import HARD_DECLINE_CODES
from streams.domain.dunning.state import open_cases
from streams.domain.events import BillingEvent, DomainEvent
from streams.processing.engine import PartitionEngine

#: Decline codes kept as metric labels; anything else counts as "other", so a
#: processor inventing codes cannot blow up the series count.
KNOWN_DECLINE_CODES = HARD_DECLINE_CODES | {
    "insufficient_funds",
    "card_declined",
    "generic_decline",
    "processing_error",
    "try_again_later",
    "card_velocity_exceeded",
    "authentication_required",
}


def account_views(engines: Iterable[PartitionEngine]) -> tuple[Counter[str], Counter[str]]:
    bands: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    for engine in engines:
        for account in engine.accounts.values():
            memo = account.draft.last_score if account.draft is not None else None
            if memo is not None:
                bands[memo.band] += 1
            if account.dunning is not None:
                cases.update(case.status for case in open_cases(account.dunning))
    return bands, cases


def decline_codes(events: Iterable[DomainEvent]) -> Counter[str]:
    """Payment failures in a batch by decline code (bounded label set)."""
    codes: Counter[str] = Counter()
    for event in events:
        if type(event) is BillingEvent and event.kind == "payment_failed":
            code = event.decline_code or "unknown"
            codes[code if code in KNOWN_DECLINE_CODES else "other"] += 1
    return codes
