"""Fill a Redis read model with a synthetic customer base for the workspace bench.

Writes go through the real projector path (``plan_record`` on contract events
and ``ReadModelStore.apply_ops``), so the bench reads exactly the layout the
projector builds: per account a profile, a first and a latest score, a 90-day
score history, alerts (timeline entries), a dunning case; across the base a
year of churn outcomes and three months of payment attempts. Score history
points are planned as ``PutHistory`` ops directly (the plan's output for a
health record), which spares building 4.5 million pydantic events.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from schemas import topics
from schemas.alerts import AlertEvent, RiskAlertRaised, alert_event_type
from schemas.health import HEALTH_CHANGED, DimensionScore, HealthChanged, HealthEvent
from schemas.lifecycle import AccountLifecycleChanged, LifecycleEvent, lifecycle_event_type
from services.readmodel.ops import Op, PutHistory
from services.readmodel.plan import epoch_us, plan_record
from services.readmodel.store import ReadModelStore

END: Final = datetime(2026, 11, 30, 12, tzinfo=UTC)
SEGMENTS: Final = ("free", "smb", "smb", "mid_market", "enterprise")
PLANS: Final = ("starter", "pro", "business", "enterprise")
INDUSTRIES: Final = ("retail", "media", "fintech", "health", "saas", "logistics", "edu", "gov")
REASONS: Final = (
    "too expensive",
    "missing features",
    "switched to competitor",
    "no longer needed",
    "poor support",
    None,
)
BATCH: Final = 5_000


@dataclass(frozen=True, slots=True)
class FillSize:
    accounts: int = 50_000
    history_days: int = 90
    alerts_per_account: int = 4
    churn_share: float = 0.02  # of accounts, per month, over 12 months
    payment_months: int = 3
    seed: int = 42


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    segment: str
    plan: str
    industry: str
    owner: str
    arr_cents: int
    created: datetime
    score: float


def population(size: FillSize) -> list[Account]:
    rng = random.Random(size.seed)
    accounts = []
    for n in range(size.accounts):
        at_risk = rng.random() < 0.15
        accounts.append(
            Account(
                account_id=f"acct-{n:05d}",
                segment=rng.choice(SEGMENTS),
                plan=rng.choice(PLANS),
                industry=rng.choice(INDUSTRIES),
                owner=f"csm{n % 50:02d}@example.com",
                arr_cents=int(rng.lognormvariate(14, 1.2)) // 100 * 100,
                created=END - timedelta(days=rng.uniform(20, 900)),
                score=round(rng.uniform(20, 59.9) if at_risk else rng.uniform(60, 100), 1),
            )
        )
    return accounts


def _health(account: Account, score: float, previous: float | None, at: datetime) -> bytes:
    band = "healthy" if score >= 75 else "neutral" if score >= 60 else "at_risk"
    data = HealthChanged(
        account_id=account.account_id,
        score=score,
        band=band,
        previous_score=previous,
        model_version="bench",
        as_of=at,
        reasons=["fewer logins", "2 urgent tickets open"],
        dimensions=[
            DimensionScore(
                name="usage_frequency",
                raw_value=4,
                score=score,
                weight=100,
                contribution=score,
                detail="4 active days in 30",
            )
        ],
        segment=account.segment,
        owner=account.owner,
        name=account.account_id.title(),
        arr_cents=account.arr_cents,
    )
    event = HealthEvent(
        id=f"h-{account.account_id}-{epoch_us(at)}",
        type=HEALTH_CHANGED,
        subject=account.account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def _profile(account: Account) -> bytes:
    return orjson.dumps(
        {
            "id": f"p-{account.account_id}",
            "account_id": account.account_id,
            "type": "account_upserted",
            "time": account.created.isoformat(),
            "name": account.account_id.title(),
            "segment": account.segment,
            "arr_cents": account.arr_cents,
            "owner": account.owner,
            "plan": account.plan,
            "industry": account.industry,
            "created_at": account.created.isoformat(),
            "renewal_at": (END + timedelta(days=int(account.account_id[-5:]) % 365)).isoformat(),
        }
    )


def _alert(account: Account, n: int, at: datetime) -> bytes:
    data = RiskAlertRaised(
        account_id=account.account_id,
        alert="sudden_drop",
        score=account.score,
        band="at_risk",
        reasons=["fewer logins"],
        owner=account.owner,
        segment=account.segment,
        arr_cents=account.arr_cents,
        caused_at=at,
    )
    event = AlertEvent(
        id=f"a-{account.account_id}-{n}",
        type=alert_event_type("sudden_drop"),
        subject=account.account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def _churn(account: Account, rng: random.Random, at: datetime) -> bytes:
    reason = rng.choice(REASONS)
    kind = "involuntary" if reason is None else "voluntary"
    data = AccountLifecycleChanged(
        account_id=account.account_id,
        change="churned",
        kind=kind,
        reason=reason,
        arr_cents=account.arr_cents,
        segment=account.segment,
        plan=account.plan,
        industry=account.industry,
        caused_at=at,
    )
    event = LifecycleEvent(
        id=f"c-{account.account_id}",
        type=lifecycle_event_type("churned"),
        subject=account.account_id,
        time=at,
        data=data,
    )
    return event.model_dump_json().encode()


def _payment(account: Account, month: int, failed: bool) -> bytes:
    at = END - timedelta(days=30 * month + 3)
    event: dict[str, Any] = {
        "id": f"pay-{account.account_id}-{month}",
        "account_id": account.account_id,
        "type": "payment_failed" if failed else "payment_succeeded",
        "time": at.isoformat(),
        "invoice_id": f"in-{account.account_id}-{month}",
        "amount_cents": 4990,
        "currency": "USD",
    }
    if failed:
        event["decline_code"] = "insufficient_funds"
    return orjson.dumps(event)


def account_ops(account: Account, size: FillSize, rng: random.Random) -> Iterator[Op]:
    """Every write one account contributes."""
    records = [
        (topics.ACCOUNTS, _profile(account)),
        (topics.HEALTH, _health(account, 80.0, None, account.created)),
    ]
    previous = round(min(account.score + rng.uniform(-12, 8), 100), 1)
    records.append((topics.HEALTH, _health(account, account.score, previous, END)))
    records += [
        (topics.ALERTS, _alert(account, n, END - timedelta(days=7 * n + 1)))
        for n in range(size.alerts_per_account)
    ]
    records += [
        (topics.BILLING, _payment(account, m, rng.random() < 0.06))
        for m in range(size.payment_months)
    ]
    for topic, value in records:
        yield from plan_record(topic, value)
    for day in range(size.history_days, 0, -1):
        at = END - timedelta(days=day)
        score = round(min(max(account.score + rng.uniform(-15, 15), 0), 100), 1)
        band = "healthy" if score >= 75 else "neutral" if score >= 60 else "at_risk"
        yield PutHistory(
            account.account_id, at.date().isoformat(), epoch_us(at), epoch_us(at), score, band
        )


def churn_ops(accounts: list[Account], size: FillSize, rng: random.Random) -> Iterator[Op]:
    churned = rng.sample(accounts, int(len(accounts) * size.churn_share * 12))
    for n, account in enumerate(churned):
        at = END - timedelta(days=(n % 12) * 30 + 5)
        yield from plan_record(topics.LIFECYCLE, _churn(account, rng, at))


async def fill(store: ReadModelStore, size: FillSize, progress: Callable[[int], object]) -> int:
    """Write the whole base; returns the number of ops applied."""
    rng = random.Random(size.seed + 1)
    accounts = population(size)
    batch: list[Op] = []
    applied = 0
    for n, account in enumerate(accounts):
        batch += account_ops(account, size, rng)
        if len(batch) >= BATCH:
            applied += len(await store.apply_ops(batch))
            batch = []
            progress(n + 1)
    batch += churn_ops(accounts, size, rng)
    applied += len(await store.apply_ops(batch))
    progress(len(accounts))
    return applied
