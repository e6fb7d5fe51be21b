"""Domain decisions -> CloudEvents records (value and headers) for the output topics.

The only place that knows both the domain dataclasses and the output schemas:
the engine returns decisions, and ``encode`` turns them into records.

Two builders per output, on purpose:

- ``*_record`` (the hot path) writes plain dicts with ``orjson``: building and
  dumping the pydantic models cost ~40 µs per health event, more than the
  scoring that produced it;
- ``*_model`` builds the pydantic model (``schemas.health.HealthEvent`` ...),
  the contract. ``tests/unit/streams/test_outputs_contract.py`` runs a
  simulation and checks that every record is byte-identical to the model's
  ``model_dump_json()`` and validates against it, so the fast path cannot
  publish a shape consumers were not promised.

Keys are written in the models' field order and float fields are forced to
``float`` so the bytes match pydantic's exactly (``3`` would be ``3.0`` there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas import topics
from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.cloudevents import SOURCE
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
from streams.domain.account import Decision, DunningNotice
from streams.domain.dunning.decision import DunningDecision
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.lifecycle import LifecycleDecision
from streams.domain.scoring.state import Profile
from streams.domain.scoring.step import HealthChange
from streams.domain.scoring.touchpoints import TouchpointDecision
from streams.processing.binding import JSON_OPTIONS, Headers, kafka_headers


@dataclass(frozen=True, slots=True)
class Emit:
    """One record for an output topic (key = account_id)."""

    topic: str
    key: bytes
    value: bytes
    caused_at: float  # event time of the cause, unix seconds (latency metrics)
    kind: str  # health | alert type | dunning step (metric label)
    #: The CloudEvents Kafka binding's (``streams.processing.binding``).
    headers: Headers = field(default_factory=list, hash=False)


# -- the hot path: plain dicts, orjson ------------------------------------------------


def encode(decisions: Iterable[Decision], threshold: float | None) -> list[Emit]:
    """The output records of the domain's decisions, in their order;
    ``threshold``: the model's alert threshold (``health_below_threshold``
    alerts carry it)."""
    out: list[Emit] = []
    for decision in decisions:
        if isinstance(decision, HealthChange):
            out.append(health_record(decision))
        elif isinstance(decision, DunningNotice):
            out.append(dunning_record(decision.decision, decision.profile))
        elif isinstance(decision, LifecycleDecision):
            out.append(lifecycle_record(decision))
        elif isinstance(decision, TouchpointDecision):
            out.append(touchpoint_record(decision))
        else:
            out.append(alert_record(decision, threshold))
    return out


def health_record(change: HealthChange) -> Emit:
    """The hot one (a backlog's inputs emit one each three): per dimension and
    change the ``None`` checks are written out, not calls of ``_float``, and
    ``float`` is a local."""
    score = change.health
    to_float = float
    data = {
        "account_id": change.account_id,
        "score": to_float(score.score),
        "band": score.band,
        "previous_score": _float(score.previous_score),
        "model_version": score.model_version,
        "as_of": score.as_of,
        "dimensions": [
            {
                "name": d.name,
                "raw_value": to_float(d.raw),
                "score": to_float(d.score),
                "weight": to_float(d.weight),
                "contribution": to_float(d.contribution),
                "detail": detail,
            }
            for d, detail in zip(score.dimensions, _details(change), strict=True)
        ],
        "changes": [
            {
                "name": c.name,
                "previous": None if c.previous_score is None else to_float(c.previous_score),
                "current": None if c.score is None else to_float(c.score),
                "delta": to_float(c.delta),
            }
            for c in score.changes
        ],
        "reasons": list(change.reasons),
        "segment": change.segment,
        "owner": change.owner,
        "name": change.account_name,
        "arr_cents": change.arr_cents,
    }
    return _emit(
        topics.HEALTH, change.id, HEALTH_CHANGED, change.account_id, change.time, data, "health"
    )


def lifecycle_record(change: LifecycleDecision) -> Emit:
    profile = change.profile
    data = {
        "account_id": change.account_id,
        "change": change.change,
        "reason": change.reason,
        "kind": change.kind,
        "arr_cents": change.arr_cents,
        "last_score": _float(change.last_score),
        "owner": profile.owner if profile else None,
        "segment": profile.segment if profile else None,
        "name": profile.name if profile else None,
        "plan": profile.plan if profile else None,
        "industry": profile.industry if profile else None,
        "caused_at": change.time,
    }
    kind = lifecycle_event_type(change.change)
    return _emit(
        topics.LIFECYCLE, change.id, kind, change.account_id, change.time, data, change.change
    )


def touchpoint_record(touchpoint: TouchpointDecision) -> Emit:
    profile = touchpoint.profile
    renewal = touchpoint.renewal_s
    data = {
        "account_id": touchpoint.account_id,
        "kind": touchpoint.kind,
        "summary": touchpoint.summary,
        "score": _float(touchpoint.score),
        "owner": profile.owner if profile else None,
        "segment": profile.segment if profile else None,
        "name": profile.name if profile else None,
        "arr_cents": profile.arr_cents if profile else None,
        "renewal_at": None if renewal is None else datetime.fromtimestamp(renewal, UTC),
        "caused_at": touchpoint.time,
    }
    kind = touchpoint_event_type(touchpoint.kind)  # type: ignore[arg-type]
    return _emit(
        topics.TOUCHPOINTS,
        touchpoint.id,
        kind,
        touchpoint.account_id,
        touchpoint.time,
        data,
        touchpoint.kind,
    )


def _details(change: HealthChange) -> tuple[str, ...]:
    """Per-dimension detail lines ("" for each when the change carries none)."""
    details = change.details
    return (
        details
        if len(details) == len(change.health.dimensions)
        else ("",) * len(change.health.dimensions)
    )


def alert_record(alert: AlertDecision, threshold: float | None) -> Emit:
    data = {
        "account_id": alert.account_id,
        "alert": alert.type,
        "score": float(alert.score) if alert.score is not None else 0.0,
        "previous_score": _float(alert.previous_score),
        "band": alert.band or "at_risk",
        "threshold": _float(threshold) if alert.type == "health_below_threshold" else None,
        "reasons": list(alert.reasons),
        "owner": alert.owner,
        "segment": alert.segment,
        "name": alert.account_name,
        "arr_cents": alert.arr_cents,
        "caused_at": alert.time,
    }
    kind = alert_event_type(alert.type)
    return _emit(topics.ALERTS, alert.id, kind, alert.account_id, alert.time, data, alert.type)


def dunning_record(decision: DunningDecision, profile: Profile | None) -> Emit:
    step = decision.step
    data = {
        "account_id": decision.account_id,
        "step": step,
        "invoice_id": decision.invoice_id,
        "state": decision.status,
        "attempt": decision.attempt or 0,
        "next_due_at": decision.next_due_at,
        "amount_cents": decision.amount_cents,
        "currency": decision.currency,
        "decline_code": decision.reason,
        "update_payment_url": decision.payment_link,
        "renewal_at": decision.target_at if step == "renewal_reminder" else None,
        "card_expires_at": decision.target_at if step == "card_expiry_reminder" else None,
        "days_before": decision.days_before,
        "owner": profile.owner if profile else None,
        "segment": profile.segment if profile else None,
        "name": profile.name if profile else None,
        "arr_cents": profile.arr_cents if profile else None,
        "caused_at": decision.at,
    }
    kind = dunning_event_type(step)
    return _emit(topics.DUNNING, decision.id, kind, decision.account_id, decision.at, data, step)


def _emit(
    topic: str,
    event_id: str,
    kind: str,
    subject: str,
    time: datetime,
    data: dict[str, Any],
    label: str,
) -> Emit:
    """The record of one CloudEvent: the envelope in ``schemas.cloudevents.CloudEvent``
    field order as the value, keyed by the account (``subject``), with the
    binding's headers (``streams.processing.binding``)."""
    key = subject.encode()
    value = orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": SOURCE,
            "type": kind,
            "subject": subject,
            "time": time,
            "datacontenttype": "application/json",
            "data": data,
        },
        option=JSON_OPTIONS,
    )
    headers = kafka_headers(event_id, kind, key, time)
    return Emit(topic, key, value, time.timestamp(), label, headers)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


# -- the contract: the same outputs as pydantic models ---------------------------------


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
            for d, detail in zip(score.dimensions, _details(change), strict=True)
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
