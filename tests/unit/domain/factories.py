"""Factories for domain tests: events, states and the default model.

Every event gets a unique id unless one is given, so tests only spell out what
they are about. Times default to ``T0`` (a Tuesday, 2026-09-01 09:00 UTC).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from streams.domain.events import (
    AccountProfile,
    BillingEvent,
    BillingKind,
    DomainEvent,
    FeedbackEvent,
    Priority,
    Segment,
    TicketEvent,
    TicketKind,
    UsageEvent,
)
from streams.domain.scoring.model import ScoringModel, load_model, parse_model
from streams.domain.scoring.state import AccountState
from tests.unit.domain.stepping import StepResult, advance_time, process_batch

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ACCOUNT = "acme"
DEFAULT_MODEL_PATH = Path("streams/domain/default_model.yaml")
_ids = itertools.count(1)


def at_day(n: float, hour: int = 0) -> datetime:
    """``T0`` plus ``n`` days (and ``hour`` hours)."""
    return T0 + timedelta(days=n, hours=hour)


def _id(given: str | None) -> str:
    return given or f"e-{next(_ids)}"


def make_login(
    account: str = ACCOUNT, at: datetime = T0, user: str | None = "u1", id: str | None = None
) -> UsageEvent:
    return UsageEvent(id=_id(id), account_id=account, kind="login", at=at, user_id=user)


def make_feature(
    account: str = ACCOUNT, at: datetime = T0, feature: str = "reports", user: str = "u1"
) -> UsageEvent:
    return UsageEvent(
        id=_id(None), account_id=account, kind="feature_used", at=at, user_id=user, feature=feature
    )


def make_records(account: str = ACCOUNT, at: datetime = T0, quantity: int = 100) -> UsageEvent:
    return UsageEvent(
        id=_id(None), account_id=account, kind="records_changed", at=at, quantity=quantity
    )


def make_ticket(
    account: str = ACCOUNT,
    at: datetime = T0,
    kind: TicketKind = "ticket_opened",
    ticket_id: str = "T-1",
    priority: Priority = "normal",
    csat: int | None = None,
) -> TicketEvent:
    return TicketEvent(
        id=_id(None),
        account_id=account,
        kind=kind,
        at=at,
        ticket_id=ticket_id,
        priority=priority,
        csat=csat,
    )


def make_billing(
    kind: BillingKind,
    at: datetime = T0,
    *,
    account: str = ACCOUNT,
    id: str | None = None,
    invoice_id: str | None = "in_1",
    amount_cents: int | None = 49_900,
    currency: str | None = "USD",
    decline_code: str | None = None,
    renewal_at: datetime | None = None,
    card_expires_at: datetime | None = None,
    reason: str | None = None,
) -> BillingEvent:
    """Any billing event; the scoring and the dunning factories both build on it."""
    return BillingEvent(
        id=_id(id),
        account_id=account,
        kind=kind,
        at=at,
        invoice_id=invoice_id,
        amount_cents=amount_cents,
        currency=currency,
        decline_code=decline_code,
        renewal_at=renewal_at,
        card_expires_at=card_expires_at,
        reason=reason,
    )


def make_payment_failed(
    account: str = ACCOUNT, at: datetime = T0, invoice: str = "in_1", amount: int = 49_900
) -> BillingEvent:
    return make_billing(
        "payment_failed",
        at,
        account=account,
        invoice_id=invoice,
        amount_cents=amount,
        decline_code="insufficient_funds",
    )


def make_payment_succeeded(
    account: str = ACCOUNT, at: datetime = T0, invoice: str = "in_1"
) -> BillingEvent:
    return make_billing("payment_succeeded", at, account=account, invoice_id=invoice)


def make_nps(account: str = ACCOUNT, at: datetime = T0, score: int = 9) -> FeedbackEvent:
    return FeedbackEvent(id=_id(None), account_id=account, kind="nps_response", at=at, score=score)


ESTABLISHED = T0 - timedelta(days=730)
"""Sign-up date of a profile by default: a customer for two years, past onboarding."""


def make_profile(
    account: str = ACCOUNT,
    at: datetime = T0,
    segment: Segment = "smb",
    owner: str | None = "csm@example.com",
    created_at: datetime | None = ESTABLISHED,
    plan: str | None = None,
    renewal_at: datetime | None = None,
) -> AccountProfile:
    return AccountProfile(
        id=_id(None),
        account_id=account,
        at=at,
        name="Acme Corp",
        segment=segment,
        arr_cents=12_000_000,
        owner=owner,
        created_at=created_at,
        plan=plan,
        renewal_at=renewal_at,
    )


@cache
def default_model() -> ScoringModel:
    return load_model(DEFAULT_MODEL_PATH)


def model_doc(**overrides: Any) -> dict[str, Any]:
    """A small valid model document; keyword arguments replace top-level keys."""
    doc: dict[str, Any] = {
        "version": "test-1",
        "dimensions": {
            "usage_frequency": {"normalise": {"kind": "linear", "lo": 0, "hi": 20}},
            "nps": {"normalise": {"kind": "bands", "bands": [[0, 0], [5, 50], [9, 100]]}},
        },
        "weights": {"default": {"usage_frequency": 60, "nps": 40}},
    }
    doc.update(overrides)
    return doc


def make_model(**overrides: Any) -> ScoringModel:
    return parse_model(model_doc(**overrides))


def run(
    batches: Iterable[Sequence[DomainEvent]],
    model: ScoringModel | None = None,
    state: AccountState | None = None,
) -> tuple[AccountState | None, list[StepResult]]:
    """Feed batches through ``process_batch`` with now = the batch's latest event."""
    model = model or default_model()
    results: list[StepResult] = []
    for batch in batches:
        now = max(e.at for e in batch)
        result = process_batch(state, batch, model, now)
        state = result.state
        results.append(result)
    return state, results


def tick_days(
    state: AccountState | None, start: datetime, days: int, model: ScoringModel | None = None
) -> tuple[AccountState | None, list[StepResult]]:
    """Hourly clock ticks for ``days`` days from ``start`` (ticks from the caller's clock)."""
    model = model or default_model()
    results: list[StepResult] = []
    for hour in range(1, days * 24 + 1):
        result = advance_time(state, model, start + timedelta(hours=hour))
        state = result.state
        results.append(result)
    return state, results


FEATURES = ("reports", "exports", "dashboards", "api", "sso", "alerts", "billing_portal",
            "imports", "comments", "search", "workflows", "integrations")  # fmt: skip


def typical_day(day: int, rng: random.Random, account: str = ACCOUNT) -> list[DomainEvent]:
    """One working day of a typical active account: 8 users, 12 features, data growth."""
    if at_day(day).weekday() >= 5:
        return []
    events: list[DomainEvent] = []
    for n in range(rng.randint(15, 30)):
        at = at_day(day, hour=8) + timedelta(minutes=n * 13)
        user = f"user-{rng.randint(1, 8)}"
        kind = rng.random()
        if kind < 0.5:
            events.append(make_login(account, at, user))
        elif kind < 0.9:
            events.append(make_feature(account, at, rng.choice(FEATURES[:10]), user))
        else:
            events.append(make_records(account, at, rng.randint(1, 400)))
    if day % 9 == 0:
        priority: Priority = rng.choice(["low", "normal", "high"])
        events.append(
            make_ticket(account, at_day(day, 11), ticket_id=f"T-{day}", priority=priority)
        )
    if day % 9 == 3:
        solved_at = at_day(day, 12)
        events.append(make_ticket(account, solved_at, "ticket_solved", f"T-{day - 3}", csat=4))
    return events


def typical_history(days: int = 90, seed: int = 7) -> list[list[DomainEvent]]:
    """``days`` daily batches of a typical active account, profile, NPS and billing included."""
    rng = random.Random(seed)
    batches: list[list[DomainEvent]] = [[make_profile(at=at_day(0, 0), segment="mid_market")]]
    for day in range(days):
        batch = typical_day(day, rng)
        if day == 20:
            batch.append(make_nps(at=at_day(day, 15), score=8))
        if day % 30 == 1:
            batch.append(make_payment_succeeded(at=at_day(day, 1), invoice=f"in_{day}"))
        if batch:
            batches.append(batch)
    return batches
