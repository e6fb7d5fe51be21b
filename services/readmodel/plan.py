"""What one output-topic record changes in the read model: a pure decision.

``plan_record(topic, value)`` decodes a CloudEvent from ``cs.health.v1``,
``cs.alerts.v1`` or ``cs.dunning.v1`` and returns the write to make (or None
when the record changes nothing, e.g. a reminder that is no case). It reads no
clock and touches no Redis, so replays and redeliveries are decided the same
way every time; idempotency itself is enforced by the store's compare-and-set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from pydantic import TypeAdapter, ValidationError

from schemas import topics
from schemas.alerts import AlertEvent
from schemas.dunning import DunningEvent
from schemas.errors import InvalidEventError
from schemas.health import HealthEvent
from services.readmodel.ops import ALL_CASES, Op, PutAlert, PutDunning, PutHealth

#: Steps after which an invoice's case is over.
CLOSING_STEPS: Final = frozenset({"recovered", "canceled"})

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HEALTH: Final = TypeAdapter(HealthEvent)
_ALERT: Final = TypeAdapter(AlertEvent)
_DUNNING: Final = TypeAdapter(DunningEvent)


def plan_record(topic: str, value: bytes | None) -> Op | None:
    """The write one record asks for; raises ``InvalidEventError`` if unreadable."""
    if value is None:  # a tombstone on the compacted health topic
        return None
    try:
        if topic == topics.HEALTH:
            return plan_health(_HEALTH.validate_json(value))
        if topic == topics.ALERTS:
            return plan_alert(_ALERT.validate_json(value), value)
        if topic == topics.DUNNING:
            return plan_dunning(_DUNNING.validate_json(value))
    except ValidationError as exc:
        raise InvalidEventError(f"{topic}: {exc.error_count()} errors", kind="invalid") from None
    raise InvalidEventError(f"{topic!r} is not a read-model topic", kind="wrong_topic")


def plan_health(event: HealthEvent) -> PutHealth:
    data = event.data
    doc = {
        "event_id": event.id,
        "event_time": event.time.isoformat(),
        "data": data.model_dump(mode="json"),
    }
    return PutHealth(
        account_id=data.account_id,
        score=data.score,
        band=data.band,
        segment=data.segment,
        owner=data.owner,
        as_of_us=epoch_us(data.as_of),
        time_us=epoch_us(event.time),
        doc=_dumps(doc),
    )


def plan_alert(event: AlertEvent, raw: bytes) -> PutAlert:
    # The feed serves the event exactly as the worker published it.
    return PutAlert(
        event_id=event.id,
        account_id=event.data.account_id,
        alert_type=event.data.alert,
        event_json=raw.decode(),
    )


def plan_dunning(event: DunningEvent) -> PutDunning | None:
    data = event.data
    closes = data.step in CLOSING_STEPS
    if data.invoice_id is None:
        # Reminders are no case; a cancel without an invoice ends every case.
        if not closes:
            return None
        return PutDunning(data.account_id, ALL_CASES, epoch_us(event.time), True, None)
    doc = case_doc(event)
    return PutDunning(data.account_id, data.invoice_id, epoch_us(event.time), closes, doc)


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
    )
    return _dumps(fields)


def epoch_us(moment: datetime) -> int:
    """Exact integer microseconds (a float timestamp would round)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
