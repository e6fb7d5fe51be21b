"""The output records as pydantic models: the contract ``encode`` must match.

``streams.processing.encode`` writes plain dicts with ``orjson`` on the hot
path; these builders give the same outputs as the models of ``schemas``
(``HealthEvent`` ...), and ``tests/unit/streams/test_outputs_contract.py``
checks every simulated record is byte-identical to its model's
``model_dump_json()``, so the fast path cannot publish a shape consumers were
not promised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.dunning import DunningEvent, DunningStepTaken, dunning_event_type
from schemas.health import (
    HEALTH_CHANGED,
    DimensionChange,
    DimensionScore,
    HealthChanged,
    HealthEvent,
)
from schemas.lifecycle import AccountLifecycleChanged, LifecycleEvent, lifecycle_event_type
from schemas.touchpoints import TouchpointDue, TouchpointEvent, touchpoint_event_type
from streams.domain.dunning.decision import DunningDecision
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.lifecycle import LifecycleDecision
from streams.domain.scoring.state import Profile
from streams.domain.scoring.step import HealthChange
from streams.domain.scoring.touchpoints import TouchpointDecision
from streams.processing.encode import dimension_details


def health_model(change: HealthChange) -> HealthEvent:
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
                detail=detail,
            )
            for d, detail in zip(score.dimensions, dimension_details(change), strict=True)
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
    return HealthEvent(
        id=change.id, type=HEALTH_CHANGED, subject=change.account_id, time=change.time, data=data
    )


def alert_model(alert: AlertDecision, threshold: float | None) -> AlertEvent:
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
    return AlertEvent(
        id=alert.id,
        type=alert_event_type(alert.type),
        subject=alert.account_id,
        time=alert.time,
        data=data,
    )


def _profile_fields(profile: Profile | None, *names: str) -> dict[str, Any]:
    """The profile's ``names`` for an output model, all None without a profile."""
    return {name: getattr(profile, name) if profile else None for name in names}


def dunning_model(decision: DunningDecision, profile: Profile | None) -> DunningEvent:
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
        **_profile_fields(profile, "owner", "segment", "name", "arr_cents"),
        caused_at=decision.at,
    )
    return DunningEvent(
        id=decision.id,
        type=dunning_event_type(decision.step),
        subject=decision.account_id,
        time=decision.at,
        data=data,
    )


def lifecycle_model(change: LifecycleDecision) -> LifecycleEvent:
    profile = change.profile
    data = AccountLifecycleChanged(
        account_id=change.account_id,
        change=change.change,
        reason=change.reason,
        kind=change.kind,
        arr_cents=change.arr_cents,
        last_score=change.last_score,
        **_profile_fields(profile, "owner", "segment", "name", "plan", "industry"),
        caused_at=change.time,
    )
    return LifecycleEvent(
        id=change.id,
        type=lifecycle_event_type(change.change),
        subject=change.account_id,
        time=change.time,
        data=data,
    )


def touchpoint_model(touchpoint: TouchpointDecision) -> TouchpointEvent:
    profile = touchpoint.profile
    renewal = touchpoint.renewal_s
    data = TouchpointDue(
        account_id=touchpoint.account_id,
        kind=touchpoint.kind,
        summary=touchpoint.summary,
        score=touchpoint.score,
        **_profile_fields(profile, "owner", "segment", "name", "arr_cents"),
        renewal_at=None if renewal is None else datetime.fromtimestamp(renewal, UTC),
        caused_at=touchpoint.time,
    )
    return TouchpointEvent(
        id=touchpoint.id,
        type=touchpoint_event_type(touchpoint.kind),  # type: ignore[arg-type]
        subject=touchpoint.account_id,
        time=touchpoint.time,
        data=data,
    )
