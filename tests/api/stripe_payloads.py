"""Stripe webhook payloads built with the ``stripe`` package's own objects, and
signed the way Stripe signs them.

Field names and shapes follow Stripe's API reference (API version 2024-06-20:
invoices still carry ``charge`` and ``payment_intent`` ids, and
``subscription_details.metadata``). The body is the event serialised by the
library, so what the endpoint parses is what a Stripe object looks like.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import stripe

SECRET = "whsec_test_5b1e0c7a9d2f4e6b8a0c2e4f6a8b0d2f"
CUSTOMER = "cus_R5tGmG0dJ9Yb2p"
PERIOD_END = 1796428800  # 2026-12-05T00:00:00Z
CREATED = 1793750400  # 2026-11-04T00:00:00Z


def invoice(**fields: Any) -> stripe.Invoice:
    base: dict[str, Any] = {
        "id": "in_1QxYyzLkdIwHu7ixAbCdEf",
        "object": "invoice",
        "account_country": "US",
        "amount_due": 49900,
        "amount_paid": 0,
        "amount_remaining": 49900,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "charge": "ch_3QxYz0LkdIwHu7ix1AbCdEfG",
        "collection_method": "charge_automatically",
        "created": CREATED - 3600,
        "currency": "usd",
        "customer": CUSTOMER,
        "customer_email": "billing@acme.example",
        "last_finalization_error": None,
        "lines": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/x/lines"},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": "ACME-0042",
        "paid": False,
        "payment_intent": "pi_3QxYz0LkdIwHu7ix1XyZ",
        "period_end": PERIOD_END,
        "period_start": PERIOD_END - 30 * 86400,
        "status": "open",
        "subscription": "sub_1QxYwvLkdIwHu7ixQwErTy",
        "subscription_details": {"metadata": {}},
        "total": 49900,
    }
    return stripe.Invoice.construct_from({**base, **fields}, None)


def subscription(**fields: Any) -> stripe.Subscription:
    base: dict[str, Any] = {
        "id": "sub_1QxYwvLkdIwHu7ixQwErTy",
        "object": "subscription",
        "cancel_at_period_end": False,
        "canceled_at": CREATED,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "payment_failed",
        },
        "created": CREATED - 365 * 86400,
        "currency": "usd",
        "current_period_end": PERIOD_END,
        "current_period_start": PERIOD_END - 30 * 86400,
        "customer": CUSTOMER,
        "ended_at": CREATED,
        "items": {"object": "list", "data": [], "has_more": False, "url": "/v1/subscription_items"},
        "livemode": False,
        "metadata": {},
        "status": "canceled",
    }
    return stripe.Subscription.construct_from({**base, **fields}, None)


def card(**fields: Any) -> stripe.Card:
    base: dict[str, Any] = {
        "id": "card_1QxYvbLkdIwHu7ixZ9y8X7w6",
        "object": "card",
        "brand": "Visa",
        "country": "US",
        "customer": CUSTOMER,
        "exp_month": 12,
        "exp_year": 2026,
        "fingerprint": "Xt5EWLLDS7FJjR1c",
        "funding": "credit",
        "last4": "4242",
        "metadata": {},
    }
    return stripe.Card.construct_from({**base, **fields}, None)


def event(kind: str, obj: stripe.StripeObject, event_id: str = "evt_1QxYz2LkdIwHu7ix") -> bytes:
    """The webhook body Stripe posts for ``obj`` (a snapshot event)."""
    built = stripe.Event.construct_from(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": CREATED,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        },
        None,
    )
    return json.dumps(built.to_dict()).encode()


def sign(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """``Stripe-Signature`` as Stripe documents it: ``t=<unix>,v1=<hex HMAC-SHA256
    of "<t>.<body>">``, computed here without the library under test."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}
