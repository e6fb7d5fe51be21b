"""Factories for the CloudEvents the projector reads and the inputs the API takes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from schemas import topics
from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.dunning import DunningEvent, DunningStepTaken, dunning_event_type
from schemas.health import HEALTH_CHANGED, DimensionScore, HealthChanged, HealthEvent
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
) -> bytes:
    as_of = T0 + timedelta(days=day)
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
        arr_cents=100_000,
    )
    event = HealthEvent(
        id=event_id or f"health:{account_id}:{day}:{score}",
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
    if b'"io.healthscore.health.' in value:
        return topics.HEALTH
    if b'"io.healthscore.alert.' in value:
        return topics.ALERTS
    return topics.DUNNING


def seed(redis_url: str, values: Iterable[bytes]) -> list[bool]:
    """Project records straight into Redis (projector logic, no Kafka)."""

    async def run() -> list[bool]:
        redis = Redis.from_url(redis_url, decode_responses=True)
        try:
            store = ReadModelStore(redis, StoreLimits())
            ops = [op for v in values if (op := plan_record(topic_for(v), v)) is not None]
            return await store.apply_ops(ops)
        finally:
            await redis.aclose()

    return asyncio.run(run())
