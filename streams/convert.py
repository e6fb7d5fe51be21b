"""Schema models -> domain events, once, at the edge of the pure core."""

from __future__ import annotations

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

_USAGE = (usage.Login, usage.FeatureUsed, usage.RecordsChanged, usage.SeatsChanged)
_TICKETS = (
    tickets.TicketOpened,
    tickets.TicketUpdated,
    tickets.TicketSolved,
    tickets.TicketReopened,
)
_FEEDBACK = (feedback.NpsResponse, feedback.CsatResponse)


def to_domain(event: InputEvent) -> DomainEvent:
    """Map a validated input model onto its domain dataclass (no validation here)."""
    if isinstance(event, _USAGE):
        return UsageEvent(
            id=event.id,
            account_id=event.account_id,
            kind=event.type,
            at=event.time,
            user_id=event.user_id,
            feature=getattr(event, "feature", None),
            quantity=getattr(event, "quantity", None),
        )
    if isinstance(event, _TICKETS):
        return TicketEvent(
            id=event.id,
            account_id=event.account_id,
            kind=event.type,
            at=event.time,
            ticket_id=event.ticket_id,
            priority=event.priority,
            csat=getattr(event, "csat", None),
        )
    if isinstance(event, _FEEDBACK):
        return FeedbackEvent(
            id=event.id,
            account_id=event.account_id,
            kind=event.type,
            at=event.time,
            score=event.score,
            comment=event.comment,
        )
    if isinstance(event, accounts.AccountUpserted):
        return AccountProfile(
            id=event.id,
            account_id=event.account_id,
            at=event.time,
            name=event.name,
            segment=event.segment,
            arr_cents=event.arr_cents,
            owner=event.owner,
            industry=event.industry,
            plan=event.plan,
            renewal_at=event.renewal_at,
            created_at=event.created_at,
        )
    return _billing(event)


def _billing(event: InputEvent) -> BillingEvent:
    if not isinstance(
        event,
        billing.PaymentFailed
        | billing.PaymentSucceeded
        | billing.CardExpiring
        | billing.RenewalScheduled
        | billing.SubscriptionCanceled,
    ):
        raise TypeError(f"no domain mapping for {type(event).__name__}")
    return BillingEvent(
        id=event.id,
        account_id=event.account_id,
        kind=event.type,
        at=event.time,
        invoice_id=getattr(event, "invoice_id", None),
        amount_cents=getattr(event, "amount_cents", None),
        currency=getattr(event, "currency", None),
        decline_code=getattr(event, "decline_code", None),
        renewal_at=getattr(event, "renewal_at", None),
        card_expires_at=getattr(event, "card_expires_at", None),
        reason=getattr(event, "reason", None),
    )
