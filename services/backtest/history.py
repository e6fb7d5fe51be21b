"""Replay a history through the live engine a day at a time and keep what a backtest needs.

The engine is the one the worker and ``healthscore replay`` run
(``PartitionEngine``); the events of each day go in as one batch and the clock
is then moved to the next midnight, which is what the live tick does, so every
account - silent ones too - is scored at every midnight. After each midnight
the panel keeps, per account, the score and the per-dimension scores *as of*
that midnight (what a CSM would have seen that morning), and per day the raw
activity the baseline and the ceiling are built from (``features``).

Events are taken in file order; an event older than the day being collected
is a late event to the engine, exactly as it would be live. Memory is bounded
by one day of events plus the grids (accounts x days), not by the history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.backtest.grid import Grid
from streams.domain.account import Decision
from streams.domain.events import (
    AccountProfile,
    BillingEvent,
    DomainEvent,
    FeedbackEvent,
    TicketEvent,
    UsageEvent,
)
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.lifecycle import LifecycleDecision
from streams.domain.scoring.model import DIMENSIONS, ScoringModel
from streams.domain.scoring.windows import DAY_SECONDS
from streams.processing.engine import PartitionEngine
from streams.processing.rules import Rules

#: Daily raw aggregates kept per account (see ``features``).
RAW = (
    "usage",  # usage events (login, feature use, records)
    "features",  # feature-use events
    "records",  # records added (net)
    "tickets",  # tickets opened
    "urgent",  # high/urgent tickets opened
    "reopened",  # tickets reopened
    "low_csat",  # CSAT answers of 1-2
    "failed",  # failed payments
    "paid",  # successful payments
    "nps",  # NPS answer of the day (NaN: none)
    "seats",  # seat count reported that day (NaN: none)
)
RISK_ALERTS = frozenset(
    {"health_below_threshold", "sudden_drop", "inactivity", "onboarding_stalled", "usage_decline"}
)
"""Alerts that page a CSM about churn risk (``health_recovered`` is good news)."""

Progress = Callable[[str], None]


@dataclass(slots=True)
class Outcome:
    """The first cancellation of an account: the churn the backtest predicts."""

    at_s: int
    reason: str | None


@dataclass
class History:
    """Everything the metrics read; day ``k`` is ``first_day + k`` (UTC day index).

    ``scores[a, k]`` and ``dims[name][a, k]`` are as of midnight at the start
    of day ``k`` (NaN: no score yet); ``raw[name][a, k]`` is what happened
    during day ``k``."""

    account_ids: list[str]
    first_day: int
    days: int
    scores: npt.NDArray[np.float64]
    dims: dict[str, npt.NDArray[np.float64]]
    raw: dict[str, npt.NDArray[np.float64]]
    alerts: list[tuple[int, int, str]]
    """(account index, cause time s, alert type), every alert the engine emitted."""
    outcomes: dict[int, Outcome]
    segments: list[str | None]
    arr_cents: npt.NDArray[np.float64]
    created_day: npt.NDArray[np.float64]
    """Day index of ``created_at`` (or of the first event when the profile has none)."""
    events: int = 0
    lifecycle: list[tuple[int, int, str]] = field(default_factory=list)


class _Collector:
    def __init__(self, rules: Rules, progress: Progress | None) -> None:
        self.model: ScoringModel = rules.model
        self.engine = PartitionEngine(0, rules.model, rules.policies)
        self.index: dict[str, int] = {}
        self.ids: list[str] = []
        self.first_day: int | None = None
        self.scores = Grid(fill=np.nan)
        self.dims = {name: Grid(fill=np.nan) for name in DIMENSIONS}
        self.raw = {name: Grid(fill=np.nan if name in ("nps", "seats") else 0.0) for name in RAW}
        self.alerts: list[tuple[int, int, str]] = []
        self.lifecycle: list[tuple[int, int, str]] = []
        self.outcomes: dict[int, Outcome] = {}
        self.segments: list[str | None] = []
        self.arr: list[float] = []
        self.created: list[float] = []
        self.events = 0
        self.progress = progress
        self.started = time.monotonic()

    def row(self, account_id: str, day: int) -> int:
        i = self.index.get(account_id)
        if i is None:
            i = self.index[account_id] = len(self.ids)
            self.ids.append(account_id)
            self.segments.append(None)
            self.arr.append(0.0)
            self.created.append(float(day))
        return i

    def observe(self, event: DomainEvent) -> None:
        at_s = int(event.at.timestamp())
        day = at_s // DAY_SECONDS
        i = self.row(event.account_id, day)
        k = day - (self.first_day or day)
        if k < 0:
            return  # before the first day collected: only the engine sees it
        if isinstance(event, UsageEvent):
            self._usage(event, i, k)
        elif isinstance(event, TicketEvent):
            self._ticket(event, i, k)
        elif isinstance(event, BillingEvent):
            self._billing(event, i, k, at_s)
        elif isinstance(event, FeedbackEvent):
            self._feedback(event, i, k)
        elif isinstance(event, AccountProfile):
            self._profile(event, i)

    def _usage(self, usage: UsageEvent, i: int, k: int) -> None:
        raw = self.raw
        if usage.kind == "seats_changed":
            raw["seats"].put(i, k, float(usage.quantity or 0))
            return
        raw["usage"].add(i, k, 1)
        if usage.kind == "feature_used":
            raw["features"].add(i, k, 1)
        elif usage.kind == "records_changed":
            raw["records"].add(i, k, float(usage.quantity or 0))

    def _ticket(self, ticket: TicketEvent, i: int, k: int) -> None:
        raw = self.raw
        if ticket.kind == "ticket_opened":
            raw["tickets"].add(i, k, 1)
            if ticket.priority in ("high", "urgent"):
                raw["urgent"].add(i, k, 1)
        elif ticket.kind == "ticket_reopened":
            raw["reopened"].add(i, k, 1)
        if ticket.csat is not None and ticket.csat <= 2:
            raw["low_csat"].add(i, k, 1)

    def _billing(self, billing: BillingEvent, i: int, k: int, at_s: int) -> None:
        if billing.kind == "payment_failed":
            self.raw["failed"].add(i, k, 1)
        elif billing.kind == "payment_succeeded":
            self.raw["paid"].add(i, k, 1)
        elif billing.kind == "subscription_canceled" and i not in self.outcomes:
            self.outcomes[i] = Outcome(at_s, billing.reason)

    def _feedback(self, feedback: FeedbackEvent, i: int, k: int) -> None:
        if feedback.kind == "nps_response":
            self.raw["nps"].put(i, k, float(feedback.score))
        elif feedback.score <= 2:
            self.raw["low_csat"].add(i, k, 1)

    def _profile(self, profile: AccountProfile, i: int) -> None:
        self.segments[i] = profile.segment
        self.arr[i] = float(profile.arr_cents)
        if profile.created_at is not None:
            self.created[i] = float(int(profile.created_at.timestamp()) // DAY_SECONDS)

    def emitted(self, decided: list[Decision]) -> None:
        """Keep the engine's alerts and lifecycle changes (by account index,
        cause time and kind)."""
        for decision in decided:
            if isinstance(decision, AlertDecision):
                i = self.index[decision.account_id]
                self.alerts.append((i, int(decision.time.timestamp()), decision.type))
            elif isinstance(decision, LifecycleDecision):
                i = self.index[decision.account_id]
                self.lifecycle.append((i, int(decision.time.timestamp()), decision.change))

    def midnight(self, day: int) -> None:
        """Tick to ``day``'s midnight and keep every account's score as of then."""
        self.emitted(self.engine.advance(float(day * DAY_SECONDS)))
        k = day - (self.first_day or day)
        n = len(self.ids)
        scores = np.full(n, np.nan)
        dims = np.full((n, len(DIMENSIONS)), np.nan)
        accounts = self.engine.accounts
        for i, account_id in enumerate(self.ids):
            account = accounts.get(account_id)
            memo = account.draft.last_score if account is not None and account.draft else None
            if memo is None:
                continue
            scores[i] = memo.score_t / 10
            dims[i, : len(memo.dim_scores_t)] = [
                np.nan if s < 0 else s / 10 for s in memo.dim_scores_t
            ]
        self.scores.column(k, scores)
        for j, name in enumerate(DIMENSIONS):
            self.dims[name].column(k, dims[:, j])
        if self.progress is not None and k % 30 == 0:
            elapsed = time.monotonic() - self.started
            self.progress(
                f"  day {k}: {self.events:,} events, {n:,} accounts, "
                f"{self.events / max(elapsed, 1e-9):,.0f} events/s"
            )


def collect(
    events: Iterable[DomainEvent],
    rules: Rules,
    *,
    until_s: int | None = None,
    progress: Progress | None = None,
) -> History:
    """Replay ``events`` (roughly in time order) and keep the daily panel."""
    c = _Collector(rules, progress)
    batch: list[DomainEvent] = []
    current: int | None = None
    for event in events:
        day = int(event.at.timestamp()) // DAY_SECONDS
        if current is None:
            current = c.first_day = day
        if day > current:
            c.emitted(c.engine.process(batch))
            batch = []
            for midnight in range(current + 1, day + 1):
                c.midnight(midnight)
            current = day
        batch.append(event)
        c.observe(event)
        c.events += 1
    if current is None:
        raise ValueError("the history has no events")
    c.emitted(c.engine.process(batch))
    last = current + 1
    if until_s is not None:
        last = max(last, until_s // DAY_SECONDS)
    for midnight in range(current + 1, last + 1):
        c.midnight(midnight)
    assert c.first_day is not None
    days = last - c.first_day + 1
    n = len(c.ids)
    return History(
        account_ids=c.ids,
        first_day=c.first_day,
        days=days,
        scores=c.scores.array(n, days),
        dims={name: grid.array(n, days) for name, grid in c.dims.items()},
        raw={name: grid.array(n, days) for name, grid in c.raw.items()},
        alerts=c.alerts,
        outcomes=c.outcomes,
        segments=c.segments,
        arr_cents=np.asarray(c.arr, dtype=np.float64),
        created_day=np.asarray(c.created, dtype=np.float64) - c.first_day,
        events=c.events,
        lifecycle=c.lifecycle,
    )
