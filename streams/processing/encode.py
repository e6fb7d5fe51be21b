"""Domain decisions -> CloudEvents records (value and headers) for the output topics.

The only place that knows both the domain dataclasses and the output schemas:
the engine returns decisions, and ``encode`` turns them into records.

The records are plain dicts dumped with ``orjson``: building and dumping the
pydantic models costs ~40 µs per health event, more than the scoring that
produced it. ``streams.processing.contract`` builds the same outputs as the
models (the contract), and a test holds the two byte-identical.

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
from schemas.alerts import alert_event_type
from schemas.cloudevents import SOURCE
from schemas.dunning import dunning_event_type
from schemas.health import (
    HEALTH_CHANGED,
)
from schemas.lifecycle import lifecycle_event_type
from schemas.touchpoints import touchpoint_event_type
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
        "previous_score": optional_float(score.previous_score),
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
            for d, detail in zip(score.dimensions, dimension_details(change), strict=True)
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
        "last_score": optional_float(change.last_score),
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
        "score": optional_float(touchpoint.score),
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


def dimension_details(change: HealthChange) -> tuple[str, ...]:
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
        "previous_score": optional_float(alert.previous_score),
        "band": alert.band or "at_risk",
        "threshold": optional_float(threshold) if alert.type == "health_below_threshold" else None,
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


def optional_float(value: float | None) -> float | None:
    """``float`` unless ``None``: pydantic writes ``3`` as ``3.0``."""
    return None if value is None else float(value)
