"""Factories for the CloudEvents the projector reads and the inputs the API takes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from redis.asyncio import Redis

from schemas import topics
from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.dunning import DunningEvent, DunningStepTaken, dunning_event_type
from schemas.health import HEALTH_CHANGED, DimensionScore, HealthChanged, HealthEvent
from schemas.lifecycle import AccountLifecycleChanged, LifecycleEvent, lifecycle_event_type
from schemas.touchpoints import TouchpointDue, TouchpointEvent, touchpoint_event_type
from services.readmodel.plan import plan_record
from services.readmodel.store import ReadModelStore, StoreLimits

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def band_of(score: float) -> str:
    return "healthy" if score >= 75 else "neutral" if score >= 60 else "at_risk"


def health_event(
    account_id: str = "acme",
    score: float = 50.0,
    *,
    day: int = 0,
    segment: str | None = "smb",
    owner: str | None = "csm@example.com",
    event_id: str | None = None,
    arr_cents: int = 100_000,
    previous: float | None = None,
    hour: int = 0,
) -> bytes:
    as_of = T0 + timedelta(days=day, hours=hour)
    data = HealthChanged(
        account_id=account_id,
        score=score,
        band=band_of(score),  # type: ignore[arg-type]
        model_version="test-1",
        as_of=as_of,
        dimensions=[
            DimensionScore(
                name="usage_frequency",
                raw_value=3,
                score=score,
                weight=100,
                contribution=score,
                detail="3 active days",
            )
        ],
        reasons=["fewer logins"],
        segment=segment,
        owner=owner,
        name=account_id.title(),
        arr_cents=arr_cents,
        previous_score=previous,
    )
    event = HealthEvent(
        id=event_id or f"health:{account_id}:{day}:{score}" + (f":{hour}" if hour else ""),
        type=HEALTH_CHANGED,
        subject=account_id,
        time=as_of,
        data=data,
    )
    return event.model_dump_json().encode()


def alert_event(
    account_id: str = "acme", alert: str = "health_below_threshold", *, n: int = 0
) -> bytes:
    at = T0 + timedelta(hours=n)
    data = RiskAlertRaised(
        account_id=account_id,
        alert=alert,
        score=55.0,
        band="at_risk",  # type: ignore[arg-type]
        threshold=60.0,
        reasons=["fewer logins"],
        caused_at=at,
    )
    event = AlertEvent(
        id=f"alert:{account_id}:{alert}:{n}",
        type=alert_event_type(alert),  # type: ignore[arg-type]
        subject=account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def dunning_event(
    account_id: str = "acme",
    step: str = "payment_failed_notice",
    *,
    invoice_id: str | None = "in_1",
    day: int = 0,
    state: str = "notified",
) -> bytes:
    at = T0 + timedelta(days=day)
    data = DunningStepTaken(
        account_id=account_id,
        step=step,
        invoice_id=invoice_id,
        state=state,
        attempt=day,
        next_due_at=at + timedelta(days=2),
        amount_cents=4990,
        currency="USD",
        caused_at=at,
    )
    event = DunningEvent(
        id=f"dunning:{account_id}:{invoice_id}:{step}:{day}",
        type=dunning_event_type(step),
        subject=account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def input_event(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid ``login`` input event."""
    event: dict[str, Any] = {
        "id": f"u-{n}",
        "account_id": "acme",
        "type": "login",
        "time": "2026-11-02T09:15:00Z",
        "user_id": "u42",
    }
    return {**event, **overrides}


def topic_for(value: bytes) -> str:
    markers = {
        b'"io.healthscore.health.': topics.HEALTH,
        b'"io.healthscore.alert.': topics.ALERTS,
        b'"io.healthscore.touchpoint.': topics.TOUCHPOINTS,
        b'"io.healthscore.account.': topics.LIFECYCLE,
        b'"account_upserted"': topics.ACCOUNTS,
        b'"type":"payment_': topics.BILLING,
    }
    return next((t for m, t in markers.items() if m in value), topics.DUNNING)


def seed(redis_url: str, values: Iterable[bytes]) -> list[bool]:
    """Project records straight into Redis (projector logic, no Kafka).

    One result per record that asks for writes: whether its first write (the
    health, alert, case, churn... itself) changed the model.
    """

    async def run() -> list[bool]:
        redis = Redis.from_url(redis_url, decode_responses=True)
        try:
            store = ReadModelStore(redis, StoreLimits())
            planned = [plan_record(topic_for(v), v) for v in values]
            results = await store.apply_ops([op for ops in planned for op in ops])
            firsts, at = [], 0
            for ops in planned:
                if ops:
                    firsts.append(results[at])
                at += len(ops)
            return firsts
        finally:
            await redis.aclose()

    return asyncio.run(run())


def lifecycle_event(
    account_id: str = "acme",
    change: str = "churned",
    *,
    day: int = 0,
    reason: str | None = "too expensive",
    kind: str | None = "voluntary",
    arr_cents: int = 100_000,
    segment: str = "smb",
    plan: str = "pro",
    event_id: str | None = None,
) -> bytes:
    at = T0 + timedelta(days=day)
    data = AccountLifecycleChanged(
        account_id=account_id,
        change=change,  # type: ignore[arg-type]
        reason=reason if change == "churned" else None,
        kind=kind if change == "churned" else None,  # type: ignore[arg-type]
        arr_cents=arr_cents,
        segment=segment,
        plan=plan,
        industry="retail",
        caused_at=at,
    )
    event = LifecycleEvent(
        id=event_id or f"lifecycle:{account_id}:{change}:{day}",
        type=lifecycle_event_type(change),  # type: ignore[arg-type]
        subject=account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def touchpoint_event(
    account_id: str = "acme", kind: str = "milestone_30d", *, day: int = 0
) -> bytes:
    at = T0 + timedelta(days=day)
    data = TouchpointDue(
        account_id=account_id,
        kind=kind,  # type: ignore[arg-type]
        summary=f"{kind} for {account_id}",
        owner="csm@example.com",
        segment="smb",
        arr_cents=100_000,
        caused_at=at,
    )
    event = TouchpointEvent(
        id=f"touchpoint:{account_id}:{kind}",
        type=touchpoint_event_type(kind),  # type: ignore[arg-type]
        subject=account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def account_event(
    account_id: str = "acme",
    *,
    day: int = 0,
    plan: str | None = "pro",
    industry: str | None = "retail",
    created_day: int | None = None,
    arr_cents: int = 100_000,
) -> bytes:
    at = T0 + timedelta(days=day)
    event: dict[str, Any] = {
        "id": f"acct:{account_id}:{day}",
        "account_id": account_id,
        "type": "account_upserted",
        "time": at.isoformat(),
        "name": account_id.title(),
        "segment": "smb",
        "arr_cents": arr_cents,
        "owner": "csm@example.com",
        "plan": plan,
        "industry": industry,
        "renewal_at": (at + timedelta(days=200)).isoformat(),
    }
    if created_day is not None:
        event["created_at"] = (T0 + timedelta(days=created_day)).isoformat()
    return orjson.dumps(event)


def payment_event(n: int, *, failed: bool, day: int = 0, account_id: str = "acme") -> bytes:
    at = T0 + timedelta(days=day)
    event: dict[str, Any] = {
        "id": f"pay-{n}",
        "account_id": account_id,
        "type": "payment_failed" if failed else "payment_succeeded",
        "time": at.isoformat(),
        "invoice_id": f"in_{n}",
        "amount_cents": 4990,
        "currency": "USD",
    }
    if failed:
        event["decline_code"] = "insufficient_funds"
    return orjson.dumps(event)
