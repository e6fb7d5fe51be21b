"""The simulated customer base: accounts, their profile, and the persona each plays.

Every persona parameter that shapes the event stream (when a disengaging
account goes silent, when a storm of tickets hits, when a card is declined and
with which code) is an explicit field of :class:`Account`, so a test can ask
"which account is disengaging, and from when?" instead of re-deriving it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from services.simulator.churn import (
    ABRUPT_CHURN,
    DISENGAGING,
    HARD_DECLINE,
    LONG_HISTORY,
    NEVER_ONBOARDS,
    NEW_ACCOUNT,
    SEASONAL,
    TICKET_STORM,
    WARM_UP,
    plan_lifecycle,
)
from services.simulator.clock import DAY, HOUR, calendar_day

HEALTHY = "healthy"
SOFT_DECLINE = "soft_decline"
CARD_EXPIRING = "card_expiring"
RENEWING_SOON = "renewing_soon"
PERSONAS = (
    HEALTHY,
    DISENGAGING,
    TICKET_STORM,
    ABRUPT_CHURN,
    NEVER_ONBOARDS,
    NEW_ACCOUNT,
    SEASONAL,
    SOFT_DECLINE,
    HARD_DECLINE,
    CARD_EXPIRING,
    RENEWING_SOON,
)

#: Soft declines are worth retrying (funds may arrive); hard ones never succeed
#: on the same card, which is what the dunning state machine distinguishes.
SOFT_DECLINE_CODES = ("insufficient_funds", "insufficient_funds", "card_declined", "do_not_honor")
HARD_DECLINE_CODES = ("expired_card", "stolen_card", "lost_card", "fraudulent")

#: (segment, share of accounts, seats range, ARR range in dollars, plans)
SEGMENTS = (
    ("free", 0.30, (1, 3), (0, 0), ("free",)),
    ("smb", 0.42, (2, 8), (3_000, 25_000), ("starter", "team")),
    ("mid_market", 0.20, (6, 20), (25_000, 150_000), ("business",)),
    ("enterprise", 0.08, (15, 50), (150_000, 1_200_000), ("enterprise",)),
)
#: (persona, share) for the engagement personas (exclusive) and billing traits
#: (exclusive, paid accounts only); renewing-soon is drawn separately.
ENGAGEMENT_SHARES = (
    (DISENGAGING, 0.12),
    (TICKET_STORM, 0.08),
    (ABRUPT_CHURN, 0.05),
    (NEVER_ONBOARDS, 0.03),
    (NEW_ACCOUNT, 0.08),
    (SEASONAL, 0.08),
)
BILLING_SHARES = ((SOFT_DECLINE, 0.06), (HARD_DECLINE, 0.03), (CARD_EXPIRING, 0.06))
RENEWING_SOON_SHARE = 0.10

FEATURES = (
    "dashboards",
    "reports",
    "exports",
    "integrations",
    "automations",
    "api",
    "alerts",
    "sso",
    "audit_log",
    "workflows",
    "forecasting",
    "segments",
    "imports",
    "comments",
)
INDUSTRIES = (
    "software",
    "fintech",
    "healthcare",
    "retail",
    "logistics",
    "manufacturing",
    "education",
    "media",
    "real_estate",
    "hospitality",
    "energy",
    "nonprofit",
)
CSMS = (
    "alex.morgan",
    "priya.shah",
    "sam.okafor",
    "jo.lindqvist",
    "maria.rossi",
    "kenji.ito",
)
_NAME_A = (
    "North",
    "Blue",
    "Iron",
    "Bright",
    "Silver",
    "Green",
    "Swift",
    "Cedar",
    "Summit",
    "Harbor",
    "Atlas",
    "Nova",
    "Pine",
    "Stone",
    "River",
    "Oak",
)
_NAME_B = ("wind", "field", "gate", "path", "forge", "line", "works", "stack", "point", "bridge")
_NAME_C = ("Labs", "Logistics", "Health", "Retail", "Systems", "Media", "Partners", "Foods", "Co")
CURRENCIES = ("USD",) * 8 + ("EUR", "EUR", "GBP")


@dataclass(frozen=True, slots=True)
class Account:
    """One simulated customer and the persona parameters that drive its events.

    Times are epoch seconds (UTC). ``None`` means the persona does not apply.
    """

    index: int
    account_id: str
    name: str
    segment: str
    arr_cents: int
    currency: str
    owner: str
    industry: str
    plan: str
    created_at: int
    renewal_at: int | None
    seats: int
    features: tuple[str, ...]
    activity: float
    personas: frozenset[str]
    billing_day: int
    silent_from: int | None = None
    storm_at: int | None = None
    decline_at: int | None = None
    decline_code: str | None = None
    card_expires_at: int | None = None
    card_notice_at: int | None = None
    cancel_at: int | None = None
    """When the subscription is canceled (voluntary or not); nothing happens after."""
    cancel_reason: str | None = None
    lull: tuple[int, int] | None = None
    """A seasonal quiet spell ``[from, until)``: a few users only, then back to normal."""
    warning_nps_at: int | None = None
    """An abrupt churner's detractor NPS answer, the only warning it gives (if any)."""

    @property
    def is_paid(self) -> bool:
        return self.arr_cents > 0

    @property
    def monthly_cents(self) -> int:
        return self.arr_cents // 12


def _allocate(n: int, shares: Sequence[tuple[str, float]]) -> list[str]:
    """Labels for ``n`` items by share, each share getting at least one item while
    items remain, so even a 5-account simulation shows every persona."""
    labels: list[str] = []
    for label, share in shares:
        count = max(1, round(share * n))
        labels.extend([label] * min(count, n - len(labels)))
    return labels


def _segments(rng: random.Random, n: int) -> list[int]:
    counts = [max(1 if n >= 4 else 0, round(share * n)) for _, share, *_ in SEGMENTS]
    counts[1] = max(0, n - counts[0] - counts[2] - counts[3])  # smb takes the remainder
    order = [i for i, c in enumerate(counts) for _ in range(c)][:n]
    order += [1] * (n - len(order))
    rng.shuffle(order)
    return order


def build_population(seed: int, n: int, start: int, end: int) -> list[Account]:
    """``n`` accounts whose personas play out inside the history ``[start, end)``."""
    if n < 1:
        raise ValueError("a population needs at least one account")
    rng = random.Random(seed)
    segments = _segments(rng, n)
    paid = [i for i, s in enumerate(segments) if SEGMENTS[s][0] != "free"]
    engagement: dict[int, str] = {}
    shuffled = list(range(n))
    rng.shuffle(shuffled)
    for i, label in zip(shuffled, _allocate(n, ENGAGEMENT_SHARES), strict=False):
        engagement[i] = label
    billing: dict[int, str] = {}
    rng.shuffle(paid)
    for i, label in zip(paid, _allocate(len(paid), BILLING_SHARES), strict=False):
        billing[i] = label
    rng.shuffle(paid)
    renewing = set(paid[: max(1, round(RENEWING_SOON_SHARE * len(paid)))] if paid else [])
    accounts = []
    for i in range(n):
        personas = {engagement.get(i, HEALTHY)}
        if i in billing:
            personas.add(billing[i])
        if i in renewing:
            personas.add(RENEWING_SOON)
        segment = SEGMENTS[segments[i]][0]
        accounts.append(make_account(rng, i, start, end, segment=segment, personas=personas))
    return accounts


def make_account(
    rng: random.Random,
    index: int,
    start: int,
    end: int,
    *,
    segment: str,
    personas: set[str],
    account_id: str | None = None,
    decline_code: str | None = None,
    decline_at: int | None = None,
) -> Account:
    """One account with its persona parameters drawn to fall inside the history."""
    _, _, seats_range, arr_range, plans = next(s for s in SEGMENTS if s[0] == segment)
    span = end - start
    arr_dollars = rng.randint(*arr_range) // 100 * 100
    paid = arr_dollars > 0
    if not paid:
        personas -= {SOFT_DECLINE, HARD_DECLINE, CARD_EXPIRING, RENEWING_SOON}
    if personas & {NEW_ACCOUNT, NEVER_ONBOARDS}:
        personas -= {SOFT_DECLINE, HARD_DECLINE}  # no invoice history to decline yet
    card_expires_at = card_notice_at = None
    if SOFT_DECLINE in personas or HARD_DECLINE in personas:
        soft = SOFT_DECLINE in personas
        decline_code = decline_code or rng.choice(
            SOFT_DECLINE_CODES if soft else HARD_DECLINE_CODES
        )
        if decline_at is None:
            # Soft: early enough for the retries to land; hard: early enough that the
            # cancellation two weeks later is still inside the history.
            back = rng.randint(8, 12) if soft else rng.randint(16, 20)
            latest = max(start + HOUR, end - back * DAY)
            if span >= LONG_HISTORY and not soft:
                latest = start + WARM_UP + int(rng.uniform(0.0, 1.0) * (latest - start - WARM_UP))
            decline_at = latest // DAY * DAY + rng.randint(1, 5) * HOUR
    if CARD_EXPIRING in personas:
        card_expires_at = (end // DAY + rng.randint(3, 20)) * DAY
        card_notice_at = max(start + HOUR, end - rng.randint(1, 6) * DAY)
    renewal_at = None
    if paid:
        ahead = rng.randint(2, 10) if RENEWING_SOON in personas else rng.randint(12, 360)
        renewal_at = (end // DAY + ahead) * DAY
    if HARD_DECLINE in personas or SOFT_DECLINE in personas:
        assert decline_at is not None
        billing_day = calendar_day(decline_at)[2]
    else:
        billing_day = rng.randint(1, 28)
    low, high = seats_range
    life = plan_lifecycle(rng, personas, start, end, decline_at)
    created_at = (start // DAY - rng.randint(40, 1500)) * DAY + rng.randint(8, 18) * HOUR
    return Account(
        index=index,
        account_id=account_id or f"acct-{index:05d}",
        name=f"{rng.choice(_NAME_A)}{rng.choice(_NAME_B)} {rng.choice(_NAME_C)}",
        segment=segment,
        arr_cents=arr_dollars * 100,
        currency=rng.choice(CURRENCIES),
        owner=f"{rng.choice(CSMS)}@example.com" if paid else "pooled-cs@example.com",
        industry=rng.choice(INDUSTRIES),
        plan=rng.choice(plans),
        created_at=created_at if life.created_at is None else life.created_at,
        renewal_at=renewal_at,
        seats=rng.randint(low, high),
        features=tuple(rng.sample(FEATURES, rng.randint(6, 12))),
        activity=rng.uniform(0.6, 0.9),
        personas=frozenset(personas),
        billing_day=billing_day,
        silent_from=life.silent_from,
        storm_at=life.storm_at,
        decline_at=decline_at,
        decline_code=decline_code,
        card_expires_at=card_expires_at,
        card_notice_at=card_notice_at,
        cancel_at=life.cancel_at,
        cancel_reason=life.cancel_reason,
        lull=life.lull,
        warning_nps_at=life.warning_nps_at,
    )
