"""Schema models -> domain events, once, at the edge of the pure core.

One converter per model class, found by exact type: this runs once per input
message, and reading optional fields the model does not have
(``getattr(model, "feature", None)``) costs a pydantic ``__getattr__`` miss
each, which made conversion dearer than validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas import accounts, billing, feedback, tickets, usage
from schemas.common import InputEvent
from streams.domain.events import (
    AccountProfile,
    BillingEvent,
    DomainEvent,
    FeedbackEvent,
    TicketEvent,
    UsageEvent,
)


def to_domain(event: InputEvent) -> DomainEvent:
    """Map a validated input model onto its domain dataclass (no validation here)."""
    convert = _CONVERTERS.get(type(event))
    if convert is None:
        raise TypeError(f"no domain mapping for {type(event).__name__}")
    return convert(event)


def _login(e: Any) -> UsageEvent:
    return UsageEvent(e.id, e.account_id, e.type, e.time, e.user_id)


def _feature(e: Any) -> UsageEvent:
    return UsageEvent(e.id, e.account_id, e.type, e.time, e.user_id, e.feature, e.quantity)


def _quantity(e: Any) -> UsageEvent:
    return UsageEvent(e.id, e.account_id, e.type, e.time, e.user_id, None, e.quantity)


def _ticket(e: Any) -> TicketEvent:
    return TicketEvent(e.id, e.account_id, e.type, e.time, e.ticket_id, e.priority)


def _ticket_solved(e: Any) -> TicketEvent:
    return TicketEvent(e.id, e.account_id, e.type, e.time, e.ticket_id, e.priority, e.csat)


def _feedback(e: Any) -> FeedbackEvent:
    return FeedbackEvent(e.id, e.account_id, e.type, e.time, e.score, e.comment)


def _profile(e: Any) -> AccountProfile:
    return AccountProfile(
        id=e.id,
        account_id=e.account_id,
        at=e.time,
        name=e.name,
        segment=e.segment,
        arr_cents=e.arr_cents,
        owner=e.owner,
        industry=e.industry,
        plan=e.plan,
        renewal_at=e.renewal_at,
        created_at=e.created_at,
    )


def _billing(e: Any) -> BillingEvent:
    fields = e.__dict__  # the model's own fields only: absent ones stay None
    return BillingEvent(
        id=e.id,
        account_id=e.account_id,
        kind=e.type,
        at=e.time,
        invoice_id=fields.get("invoice_id"),
        amount_cents=fields.get("amount_cents"),
        currency=fields.get("currency"),
        decline_code=fields.get("decline_code"),
        renewal_at=fields.get("renewal_at"),
        card_expires_at=fields.get("card_expires_at"),
        reason=fields.get("reason"),
    )


_CONVERTERS: dict[type[Any], Callable[[Any], DomainEvent]] = {
    usage.Login: _login,
    usage.FeatureUsed: _feature,
    usage.RecordsChanged: _quantity,
    usage.SeatsChanged: _quantity,
    tickets.TicketOpened: _ticket,
    tickets.TicketUpdated: _ticket,
    tickets.TicketReopened: _ticket,
    tickets.TicketSolved: _ticket_solved,
    feedback.NpsResponse: _feedback,
    feedback.CsatResponse: _feedback,
    accounts.AccountUpserted: _profile,
    billing.PaymentFailed: _billing,
    billing.PaymentSucceeded: _billing,
    billing.CardExpiring: _billing,
    billing.RenewalScheduled: _billing,
    billing.SubscriptionCanceled: _billing,
}
