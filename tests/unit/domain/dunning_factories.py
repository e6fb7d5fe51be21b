"""Factories for the dunning tests: billing events, a runner, and decision summaries.

Event ids are derived from the event's content so every test run is identical.
All times are offsets from ``T0`` (a Tuesday 10:00 UTC) in days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.domain.dunning.advance import new_dunning_state, process_billing
from streams.domain.dunning.decision import DunningDecision
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.dunning.state import DunningState
from streams.domain.events import BillingEvent, BillingKind
from tests.unit.domain.factories import make_billing

ACCOUNT = "acme"
T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
POLICY = DunningPolicy()


def day(days: float) -> datetime:
    """``T0`` plus a (possibly fractional) number of days."""
    return T0 + timedelta(days=days)


def billing(
    kind: BillingKind,
    at: datetime,
    *,
    event_id: str | None = None,
    account_id: str = ACCOUNT,
    **fields: Any,
) -> BillingEvent:
    """:func:`make_billing` with the dunning defaults: invoice ``in_1`` of 49 USD,
    and an id derived from the content (so runs are identical, see the module doc).
    ``fields`` are :func:`make_billing`'s keyword arguments."""
    fields.setdefault("amount_cents", 4900)
    invoice_id = fields.setdefault("invoice_id", "in_1")
    derived = f"{kind}/{invoice_id}/{at.isoformat()}/{fields.get('decline_code')}"
    return make_billing(kind, at, account=account_id, id=event_id or derived, **fields)


def failed(
    at: datetime, invoice_id: str = "in_1", code: str = "insufficient_funds"
) -> BillingEvent:
    return billing("payment_failed", at, invoice_id=invoice_id, decline_code=code)


def succeeded(at: datetime, invoice_id: str | None = "in_1") -> BillingEvent:
    return billing("payment_succeeded", at, invoice_id=invoice_id)


def renewal(at: datetime, renewal_at: datetime) -> BillingEvent:
    return billing("renewal_scheduled", at, invoice_id=None, renewal_at=renewal_at)


def card_expiring(at: datetime, expires_at: datetime) -> BillingEvent:
    return billing(
        "card_expiring", at, invoice_id=None, amount_cents=None, card_expires_at=expires_at
    )


def canceled(at: datetime, reason: str = "too_expensive") -> BillingEvent:
    return billing("subscription_canceled", at, invoice_id=None, reason=reason)


def run(
    events: Sequence[BillingEvent],
    now: datetime,
    policy: DunningPolicy = POLICY,
    state: DunningState | None = None,
) -> tuple[DunningState, tuple[DunningDecision, ...]]:
    start = state if state is not None else new_dunning_state(ACCOUNT)
    result = process_billing(start, events, policy, now)
    return result.state, result.decisions


Summary = tuple[str, str | None, int | None, datetime]


def summarize(decisions: Sequence[DunningDecision]) -> list[Summary]:
    """(step, invoice, attempt, at): what the ordered-sequence assertions compare."""
    return [(d.step, d.invoice_id, d.attempt, d.at) for d in decisions]


def step_names(decisions: Sequence[DunningDecision]) -> list[str]:
    return [d.step for d in decisions]


def replay_daily(
    events: Sequence[BillingEvent],
    days: int,
    policy: DunningPolicy = POLICY,
    state: DunningState | None = None,
    first_day: int = 0,
) -> tuple[DunningState, list[DunningDecision]]:
    """Feed ``events`` in daily batches (ticks at ``T0 + k days``), as a live worker with a
    daily tick would: batch k holds the events after tick k-1 up to and including tick k."""
    current = state if state is not None else new_dunning_state(ACCOUNT)
    decisions: list[DunningDecision] = []
    for k in range(first_day, days + 1):
        low, high = day(k - 1), day(k)
        batch = [e for e in events if (k == 0 or e.at > low) and e.at <= high]
        result = process_billing(current, batch, policy, high)
        current = result.state
        decisions.extend(result.decisions)
    return current, decisions
