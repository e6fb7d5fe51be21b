"""What one Kafka record changes in the read model: a pure decision.

``plan_record(topic, value)`` decodes a record from one of the topics the
projector reads and returns the writes to make (none when the record changes
nothing, e.g. a reminder that is no case). It reads no clock and touches no
Redis, so replays and redeliveries are decided the same way every time;
idempotency itself is enforced by the store (compare-and-set on versions,
de-duplication on event ids, timeline entries that are the same bytes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from pydantic import TypeAdapter, ValidationError

from schemas import topics
from schemas.accounts import AccountUpserted
from schemas.alerts import AlertEvent
from schemas.billing import BillingEvent, PaymentFailed, PaymentSucceeded
from schemas.dunning import DunningEvent
from schemas.errors import InvalidEventError
from schemas.health import HealthEvent
from schemas.lifecycle import LifecycleEvent
from schemas.touchpoints import TouchpointEvent
from services.readmodel import timeline
from services.readmodel.ops import (
    ALL_CASES,
    Op,
    PutAlert,
    PutDunning,
    PutHealth,
    PutHistory,
    PutLifecycle,
    PutPayment,
    PutProfile,
)

#: Steps after which an invoice's case is over.
CLOSING_STEPS: Final = frozenset({"recovered", "canceled"})
#: Longest cancellation reason kept as an analytics dimension value.
REASON_CHARS: Final = 64

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HEALTH: Final = TypeAdapter(HealthEvent)
_ALERT: Final = TypeAdapter(AlertEvent)
_DUNNING: Final = TypeAdapter(DunningEvent)
_TOUCHPOINT: Final = TypeAdapter(TouchpointEvent)
_LIFECYCLE: Final = TypeAdapter(LifecycleEvent)
_ACCOUNT: Final = TypeAdapter(AccountUpserted)
_BILLING: Final = TypeAdapter(BillingEvent)
_PAYMENT_TYPES: Final = (b'"payment_failed"', b'"payment_succeeded"')


def plan_record(topic: str, value: bytes | None) -> list[Op]:
    """The writes one record asks for; raises ``InvalidEventError`` if unreadable."""
    if value is None:  # a tombstone on a compacted topic
        return []
    try:
        return _plan(topic, value)
    except ValidationError as exc:
        raise InvalidEventError(f"{topic}: {exc.error_count()} errors", kind="invalid") from None


def _plan(topic: str, value: bytes) -> list[Op]:
    if topic == topics.HEALTH:
        return plan_health(_HEALTH.validate_json(value))
    if topic == topics.ALERTS:
        return plan_alert(_ALERT.validate_json(value), value)
    if topic == topics.DUNNING:
        return plan_dunning(_DUNNING.validate_json(value))
    if topic == topics.TOUCHPOINTS:
        event = _TOUCHPOINT.validate_json(value)
        return [timeline.touchpoint_entry(event)]
    if topic == topics.LIFECYCLE:
        return plan_lifecycle(_LIFECYCLE.validate_json(value))
    if topic == topics.ACCOUNTS:
        return [plan_profile(_ACCOUNT.validate_json(value))]
    if topic == topics.BILLING:
        # Only payments count; the rest of billing is the worker's business, so
        # other types are skipped before the (costlier) validation.
        if not any(t in value for t in _PAYMENT_TYPES):
            return []
        return plan_payment(_BILLING.validate_json(value))
    raise InvalidEventError(f"{topic!r} is not a read-model topic", kind="wrong_topic")


def plan_health(event: HealthEvent) -> list[Op]:
    data = event.data
    doc = {
        "event_id": event.id,
        "event_time": event.time.isoformat(),
        "data": data.model_dump(mode="json"),
    }
    as_of_us = epoch_us(data.as_of)
    change = 0.0 if data.previous_score is None else data.score - data.previous_score
    ops: list[Op] = [
        PutHealth(
            account_id=data.account_id,
            score=data.score,
            band=data.band,
            segment=data.segment,
            owner=data.owner,
            as_of_us=as_of_us,
            time_us=epoch_us(event.time),
            doc=_dumps(doc),
            arr_cents=data.arr_cents,
            change=round(change, 3),
            month=month_of(data.as_of),
        ),
        PutHistory(
            account_id=data.account_id,
            day=data.as_of.date().isoformat(),
            as_of_us=as_of_us,
            time_us=epoch_us(event.time),
            score=data.score,
            band=data.band,
        ),
    ]
    entry = timeline.health_entry(event)
    return [*ops, entry] if entry else ops


def plan_alert(event: AlertEvent, raw: bytes) -> list[Op]:
    # The feed serves the event exactly as the worker published it.
    alert = PutAlert(
        event_id=event.id,
        account_id=event.data.account_id,
        alert_type=event.data.alert,
        event_json=raw.decode(),
    )
    return [alert, timeline.alert_entry(event)]


def plan_dunning(event: DunningEvent) -> list[Op]:
    data = event.data
    entry = timeline.dunning_entry(event)
    closes = data.step in CLOSING_STEPS
    version, month = epoch_us(event.time), month_of(event.time)
    if data.invoice_id is None:
        # Reminders are no case; a cancel without an invoice ends every case.
        if not closes:
            return [entry]
        close_all = PutDunning(data.account_id, ALL_CASES, version, True, None, data.step, month)
        return [close_all, entry]
    case = PutDunning(
        data.account_id, data.invoice_id, version, closes, case_doc(event), data.step, month
    )
    return [case, entry]


def plan_lifecycle(event: LifecycleEvent) -> list[Op]:
    data = event.data
    dims = {
        "segment": data.segment,
        "plan": data.plan,
        "industry": data.industry,
        "kind": data.kind,
        "reason": normalise_reason(data.reason) if data.change == "churned" else None,
    }
    change = PutLifecycle(
        event_id=event.id,
        account_id=data.account_id,
        change=data.change,
        version_us=epoch_us(event.time),
        month=month_of(event.time),
        arr_cents=data.arr_cents or 0,
        dimensions=tuple((k, v or "unknown") for k, v in dims.items() if k != "reason" or v),
    )
    return [change, timeline.lifecycle_entry(event)]


def plan_profile(event: AccountUpserted) -> PutProfile:
    doc = event.model_dump(mode="json", exclude={"id", "type"})
    return PutProfile(
        account_id=event.account_id,
        version_us=epoch_us(event.time),
        created_us=epoch_us(event.created_at) if event.created_at else None,
        plan=event.plan or None,
        industry=event.industry or None,
        doc=_dumps(doc),
    )


def plan_payment(event: Any) -> list[Op]:
    if not isinstance(event, PaymentFailed | PaymentSucceeded):
        return []
    failed = isinstance(event, PaymentFailed)
    return [PutPayment(event_id=event.id, month=month_of(event.time), failed=failed)]


def normalise_reason(reason: str | None) -> str:
    """A reason as an analytics key: trimmed, lower-case, bounded ("unknown" if none)."""
    text = " ".join((reason or "").split()).lower()[:REASON_CHARS]
    return text or "unknown"


def case_doc(event: DunningEvent) -> str:
    data = event.data
    fields: dict[str, Any] = data.model_dump(
        mode="json",
        include={
            "invoice_id",
            "state",
            "attempt",
            "next_due_at",
            "amount_cents",
            "currency",
            "decline_code",
            "update_payment_url",
            "owner",
            "segment",
            "name",
            "arr_cents",
        },
    )
    fields.update(
        account_id=data.account_id,
        last_step=data.step,
        # The contract has no next-step name yet; use it once the worker sends one.
        next_step=getattr(data, "next_step", None),
        updated_at=event.time.isoformat(),
        event_id=event.id,
        closed=data.step in CLOSING_STEPS,
    )
    return _dumps(fields)


def epoch_us(moment: datetime) -> int:
    """Exact integer microseconds (a float timestamp would round)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
