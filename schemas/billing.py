"""``cs.billing.v1``: payments, renewals and cancellations (drives dunning)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import Cents, Currency, Identifier, InputEvent, ShortText, Timestamp


class _PaymentBase(InputEvent):
    invoice_id: Identifier
    amount_cents: Cents
    currency: Currency


class PaymentFailed(_PaymentBase):
    type: Literal["payment_failed"]
    decline_code: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="Processor decline code, e.g. insufficient_funds (soft) or stolen_card (hard)."
    )


class PaymentSucceeded(_PaymentBase):
    type: Literal["payment_succeeded"]


class CardExpiring(InputEvent):
    type: Literal["card_expiring"]
    card_expires_at: Timestamp


class RenewalScheduled(InputEvent):
    type: Literal["renewal_scheduled"]
    renewal_at: Timestamp
    invoice_id: Identifier | None = None
    amount_cents: Cents | None = None
    currency: Currency | None = None


class SubscriptionCanceled(InputEvent):
    type: Literal["subscription_canceled"]
    reason: ShortText | None = None
    invoice_id: Identifier | None = Field(default=None, description="The unpaid invoice, if any.")
    amount_cents: Cents | None = None
    currency: Currency | None = None


BillingEvent = Annotated[
    PaymentFailed | PaymentSucceeded | CardExpiring | RenewalScheduled | SubscriptionCanceled,
    Field(discriminator="type"),
]
