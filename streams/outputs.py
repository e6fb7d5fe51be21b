"""Domain decisions -> CloudEvents bytes for the output topics.

The only place that knows both the domain dataclasses and the output schemas.
Outputs are validated by their pydantic models on the way out: a worker bug
must not publish a shape consumers were not promised.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import topics
from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.dunning import DunningEvent, DunningStepTaken, dunning_event_type
from schemas.health import (
    HEALTH_CHANGED,
    DimensionChange,
    DimensionScore,
    HealthChanged,
    HealthEvent,
)
from streams.domain.alerts import AlertDecision
from streams.domain.dunning_decision import DunningDecision
from streams.domain.process import HealthChange
from streams.domain.state import Profile


@dataclass(frozen=True, slots=True)
class Emit:
    """One record for an output topic (key = account_id)."""

    topic: str
    key: bytes
    value: bytes
    caused_at: float  # event time of the cause, unix seconds (latency metrics)
    kind: str  # health | alert type | dunning step (metric label)


def health_record(change: HealthChange) -> Emit:
    score = change.health
    data = HealthChanged(
        account_id=change.account_id,
        score=score.score,
        band=score.band,
        previous_score=score.previous_score,
        model_version=score.model_version,
        as_of=score.as_of,
        dimensions=[
            DimensionScore(
                name=d.name,
                raw_value=d.raw,
                score=d.score,
                weight=d.weight,
                contribution=d.contribution,
            )
            for d in score.dimensions
        ],
        changes=[
            DimensionChange(name=c.name, previous=c.previous_score, current=c.score, delta=c.delta)
            for c in score.changes
        ],
        reasons=list(change.reasons),
        segment=change.segment,
        owner=change.owner,
        name=change.account_name,
        arr_cents=change.arr_cents,
    )
    event = HealthEvent(
        id=change.id, type=HEALTH_CHANGED, subject=change.account_id, time=change.time, data=data
    )
    return _emit(topics.HEALTH, change.account_id, event.model_dump_json(), change, "health")


def alert_record(alert: AlertDecision, threshold: float | None) -> Emit:
    data = RiskAlertRaised(
        account_id=alert.account_id,
        alert=alert.type,
        score=alert.score if alert.score is not None else 0.0,
        previous_score=alert.previous_score,
        band=alert.band or "at_risk",
        threshold=threshold if alert.type == "health_below_threshold" else None,
        reasons=list(alert.reasons),
        owner=alert.owner,
        segment=alert.segment,
        name=alert.account_name,
        arr_cents=alert.arr_cents,
        caused_at=alert.time,
    )
    event = AlertEvent(
        id=alert.id,
        type=alert_event_type(alert.type),
        subject=alert.account_id,
        time=alert.time,
        data=data,
    )
    return _emit(topics.ALERTS, alert.account_id, event.model_dump_json(), alert, alert.type)


def dunning_record(decision: DunningDecision, profile: Profile | None) -> Emit:
    data = DunningStepTaken(
        account_id=decision.account_id,
        step=decision.step,
        invoice_id=decision.invoice_id,
        state=decision.status,
        attempt=decision.attempt or 0,
        next_due_at=decision.next_due_at,
        amount_cents=decision.amount_cents,
        currency=decision.currency,
        decline_code=decision.reason,
        update_payment_url=decision.payment_link,
        renewal_at=decision.target_at if decision.step == "renewal_reminder" else None,
        card_expires_at=decision.target_at if decision.step == "card_expiry_reminder" else None,
        days_before=decision.days_before,
        owner=profile.owner if profile else None,
        segment=profile.segment if profile else None,
        name=profile.name if profile else None,
        arr_cents=profile.arr_cents if profile else None,
        caused_at=decision.at,
    )
    event = DunningEvent(
        id=decision.id,
        type=dunning_event_type(decision.step),
        subject=decision.account_id,
        time=decision.at,
        data=data,
    )
    return Emit(
        topics.DUNNING,
        decision.account_id.encode(),
        event.model_dump_json().encode(),
        decision.at.timestamp(),
        decision.step,
    )


def _emit(
    topic: str, account_id: str, value: str, cause: HealthChange | AlertDecision, kind: str
) -> Emit:
    return Emit(topic, account_id.encode(), value.encode(), cause.time.timestamp(), kind)
