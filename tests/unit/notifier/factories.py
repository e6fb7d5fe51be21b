"""Factories for notifier tests: CloudEvents built with the schema models, and
subscriptions as the API stores them (so tests use the real contract)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.dunning import DunningEvent, DunningStepTaken, dunning_event_type
from services.notifier.model import Delivery, Filters, Subscription

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def make_alert(
    event_id: str = "alert-1",
    account_id: str = "acme",
    alert: str = "health_below_threshold",
    **data: Any,
) -> AlertEvent:
    fields: dict[str, Any] = {
        "account_id": account_id,
        "alert": alert,
        "score": 54.0,
        "previous_score": 71.0,
        "band": "at_risk",
        "threshold": 60.0,
        "reasons": ["No logins in 14 days", "3 urgent tickets open", "NPS 2", "extra reason"],
        "owner": "csm@example.com",
        "segment": "enterprise",
        "name": "Acme",
        "arr_cents": 12_000_000,
        "caused_at": T0,
    }
    fields.update(data)
    return AlertEvent(
        id=event_id,
        type=alert_event_type(alert),
        subject=account_id,
        time=T0,  # type: ignore[arg-type]
        data=RiskAlertRaised(**fields),
    )


def make_dunning(
    event_id: str = "dun-1",
    account_id: str = "acme",
    step: str = "payment_failed_notice",
    **data: Any,
) -> DunningEvent:
    fields: dict[str, Any] = {
        "account_id": account_id,
        "step": step,
        "invoice_id": "in_77",
        "amount_cents": 49_900,
        "currency": "USD",
        "decline_code": "insufficient_funds",
        "update_payment_url": "https://billing.example.com/update?token=abc",
        "owner": "csm@example.com",
        "segment": "smb",
        "name": "Acme",
        "arr_cents": 600_000,
        "caused_at": T0,
    }
    fields.update(data)
    return DunningEvent(
        id=event_id,
        type=dunning_event_type(step),
        subject=account_id,
        time=T0,
        data=DunningStepTaken(**fields),
    )


def event_bytes(event: AlertEvent | DunningEvent) -> bytes:
    return event.model_dump_json().encode()


def event_dict(event: AlertEvent | DunningEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(event_bytes(event))
    return parsed


def make_subscription(
    sub_id: str = "sub_1",
    channel: str = "webhook",
    target: str = "http://127.0.0.1:1/hook",
    active: bool = True,
    **filters: Any,
) -> Subscription:
    return Subscription(
        id=sub_id,
        channel=channel,
        target=target,  # type: ignore[arg-type]
        secret=SECRET if channel == "webhook" else None,  # type: ignore[arg-type]
        filters=Filters(**filters),
        active=active,
    )


def subscription_json(sub: Subscription) -> bytes:
    """The row as the API writes it into ``hs:subscriptions``."""
    return orjson.dumps(
        {
            "id": sub.id,
            "channel": sub.channel,
            "target": sub.target,
            "secret": sub.secret.get_secret_value() if sub.secret else None,
            "filters": sub.filters.model_dump(),
            "description": None,
            "created_at": "2026-11-01T00:00:00Z",
            "active": sub.active,
        }
    )


def make_delivery(event: bytes, sub_id: str = "sub_1", attempt: int = 0) -> Delivery:
    event_id = orjson.loads(event)["id"]
    return Delivery(b"1-0", f"{event_id}:{sub_id}", sub_id, event, attempt, None)
