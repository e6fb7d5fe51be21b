"""Stripe webhook events -> our billing input events (pure).

| Stripe event | our event |
|---|---|
| ``invoice.payment_failed`` | ``payment_failed`` (amount due, decline code) |
| ``invoice.payment_succeeded`` | ``payment_succeeded`` (amount paid) |
| ``customer.subscription.deleted`` | ``subscription_canceled`` (``cancellation_details``) |
| ``customer.source.expiring`` | ``card_expiring`` (end of the card's expiry month) |
| ``invoice.upcoming`` | ``renewal_scheduled`` (next payment attempt) |

The event time is the Stripe event's ``created``: when Stripe saw it happen,
the same on every retry. The id is derived from the Stripe event id, so a
retried delivery is the same input event and the worker drops the repeat.
Webhook payloads are not expanded, so a decline code is only found where the
payload carries it (``last_finalization_error``, or an expanded charge or
payment intent); otherwise it is ``unknown``, which the dunning policy treats as
a soft decline (retry), the safe side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from services.api.sources.common import (
    InputItem,
    Mapped,
    Skipped,
    compact,
    derived_id,
    epoch_to_rfc3339,
    integer,
    obj,
    text,
)

SOURCE: Final = "stripe"
UNKNOWN_DECLINE: Final = "unknown"


def map_event(event: dict[str, Any]) -> Mapped:
    """One verified Stripe event (the parsed webhook body) -> one input event or a skip."""
    kind = text(event.get("type")) or "?"
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        return Skipped("unknown_type", f"Stripe event type {kind[:64]!r} is not mapped")
    data = obj(obj(event.get("data")).get("object"))
    account = account_of(data)
    if account is None:
        return Skipped("no_account", f"{kind}: no metadata.account_id and no customer")
    event_id, time = text(event.get("id")), epoch_to_rfc3339(integer(event.get("created")))
    if event_id is None or time is None:
        return Skipped("incomplete", f"{kind}: the event has no id or created time")
    common = {"id": derived_id(SOURCE, event_id), "account_id": account, "time": time}
    return mapper(data, common)


def account_of(data: dict[str, Any]) -> str | None:
    """``metadata.account_id`` of the object, of its subscription (Stripe copies
    a subscription's metadata onto its invoices) or of an expanded customer;
    else the Stripe customer id (the object's own id when it is a customer)."""
    customer = data.get("customer")
    subscription = obj(data.get("subscription_details")) or obj(
        obj(data.get("parent")).get("subscription_details")
    )
    for holder in (data, subscription, obj(customer)):
        found = text(obj(holder.get("metadata")).get("account_id"))
        if found is not None:
            return found
    if data.get("object") == "customer":
        return text(data.get("id"))
    return text(customer) or text(obj(customer).get("id"))


def _payment_failed(invoice: dict[str, Any], common: InputItem) -> Mapped:
    return compact(
        {
            **common,
            "type": "payment_failed",
            "invoice_id": text(invoice.get("id")),
            "amount_cents": integer(invoice.get("amount_due")),
            "currency": _currency(invoice),
            "decline_code": decline_code(invoice),
        }
    )


def _payment_succeeded(invoice: dict[str, Any], common: InputItem) -> Mapped:
    return compact(
        {
            **common,
            "type": "payment_succeeded",
            "invoice_id": text(invoice.get("id")),
            "amount_cents": integer(invoice.get("amount_paid")),
            "currency": _currency(invoice),
        }
    )


def _subscription_canceled(subscription: dict[str, Any], common: InputItem) -> Mapped:
    details = obj(subscription.get("cancellation_details"))
    # reason: why Stripe canceled (cancellation_requested, payment_failed, ...);
    # feedback: what the customer chose when they canceled themselves.
    parts = [text(details.get("reason")), text(details.get("feedback"))]
    reason = ": ".join(p for p in parts if p) or None
    return compact({**common, "type": "subscription_canceled", "reason": reason})


def _card_expiring(card: dict[str, Any], common: InputItem) -> Mapped:
    expires_at = card_expires_at(integer(card.get("exp_year")), integer(card.get("exp_month")))
    if expires_at is None:
        return Skipped("incomplete", "customer.source.expiring: no valid exp_month/exp_year")
    return {**common, "type": "card_expiring", "card_expires_at": expires_at}


def _renewal_scheduled(invoice: dict[str, Any], common: InputItem) -> Mapped:
    when = integer(invoice.get("next_payment_attempt")) or integer(invoice.get("period_end"))
    renewal_at = epoch_to_rfc3339(when)
    if renewal_at is None:
        return Skipped("incomplete", "invoice.upcoming: no next_payment_attempt or period_end")
    return compact(
        {
            **common,
            "type": "renewal_scheduled",
            "renewal_at": renewal_at,
            "invoice_id": text(invoice.get("id")),  # an upcoming invoice has none yet
            "amount_cents": integer(invoice.get("amount_due")),
            "currency": _currency(invoice),
        }
    )


def decline_code(invoice: dict[str, Any]) -> str:
    """The issuer's decline code (or Stripe's error code) where the invoice
    carries one: its finalization error, an expanded payment intent's last
    error, or an expanded charge's failure; else ``unknown``."""
    errors = [
        obj(invoice.get("last_finalization_error")),
        obj(obj(invoice.get("payment_intent")).get("last_payment_error")),
    ]
    for error in errors:
        code = text(error.get("decline_code")) or text(error.get("code"))
        if code is not None:
            return code
    charge = obj(invoice.get("charge"))
    return (
        text(obj(charge.get("outcome")).get("reason"))
        or text(charge.get("failure_code"))
        or UNKNOWN_DECLINE
    )


def card_expires_at(year: int | None, month: int | None) -> str | None:
    """A card is valid through the last day of its expiry month: it stops
    working at the first instant of the next month (UTC)."""
    if year is None or month is None or not 1 <= month <= 12 or not 1 <= year < 9999:
        return None
    after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return after.isoformat().replace("+00:00", "Z")


def _currency(invoice: dict[str, Any]) -> str | None:
    """ISO 4217 upper case (Stripe sends ``usd``)."""
    currency = text(invoice.get("currency"))
    return currency.upper() if currency is not None else None


_MAPPERS: Final[dict[str, Callable[[dict[str, Any], InputItem], Mapped]]] = {
    "invoice.payment_failed": _payment_failed,
    "invoice.payment_succeeded": _payment_succeeded,
    "customer.subscription.deleted": _subscription_canceled,
    "customer.source.expiring": _card_expiring,
    "invoice.upcoming": _renewal_scheduled,
}

#: The Stripe event types this module maps (select these on the Stripe endpoint).
EVENT_TYPES: Final = tuple(_MAPPERS)
