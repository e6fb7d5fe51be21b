"""The per-partition engine: event-time clock, timers and per-account steps.

Plain Python with no Faust import, so the live agent and ``healthscore
replay`` run exactly the same code. The agent feeds it decoded events and
persists what it marks dirty; replay feeds it a file.

Ordering rule (what makes replays reproduce live runs): a partition's events
are processed in ``(event time, id)`` order; before an event at time *t*,
every timer due at or before *t* fires, at its own due time. Each event is
its own domain step, so results do not depend on how the consumer happened
to cut batches. Timers are day boundaries (windows slide, silence shows) and
dunning due times; they live in a heap rebuilt from the stored states after a
restart, so nothing is lost and - because steps are idempotent - nothing
repeats.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.domain.dunning_engine import (
    DunningStep,
    advance_dunning,
    new_dunning_state,
    process_billing,
)
from streams.domain.dunning_policy import DunningPolicies
from streams.domain.dunning_state import DunningState, next_due_at
from streams.domain.events import AccountProfile, BillingEvent, DomainEvent
from streams.domain.model import ScoringModel
from streams.domain.process import StepResult, advance_time, process_batch
from streams.domain.state import AccountState
from streams.domain.windows import DAY_SECONDS
from streams.outputs import Emit, alert_record, dunning_record, health_record

#: Accounts silent for longer than this stop waking up daily: every window is
#: empty by then, so a daily rescore could not change anything.
QUIET_AFTER_S = 100 * DAY_SECONDS


@dataclass(slots=True)
class Account:
    """One account's stored record: scoring and dunning state side by side."""

    account_id: str
    score: AccountState | None = None
    dunning: DunningState | None = None
    #: ``next_due_at(dunning)`` in unix seconds, kept because it is asked on
    #: every step and changes only when the dunning state does.
    dunning_due: float | None = None

    def set_dunning(self, state: DunningState) -> None:
        self.dunning = state
        due = next_due_at(state)
        self.dunning_due = due.timestamp() if due is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.score is not None:
            out["s"] = self.score.to_dict()
        if self.dunning is not None:
            out["d"] = self.dunning.to_dict()
        return out

    @classmethod
    def from_dict(cls, account_id: str, data: Mapping[str, Any]) -> Account:
        account = cls(account_id, AccountState.from_dict(data["s"]) if "s" in data else None)
        if "d" in data:
            account.set_dunning(DunningState.from_dict(data["d"]))
        return account


@dataclass(slots=True)
class StepCounts:
    applied: int = 0
    duplicates: int = 0


@dataclass(slots=True)
class PartitionEngine:
    """Owns the accounts of one input partition (all five topics share it)."""

    partition: int
    model: ScoringModel
    policies: DunningPolicies
    watermark_s: float = 0.0
    accounts: dict[str, Account] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    counts: StepCounts = field(default_factory=StepCounts)
    _heap: list[tuple[float, str]] = field(default_factory=list)
    _due: dict[str, float] = field(default_factory=dict)

    # -- loading -------------------------------------------------------------
    def restore(self, stored: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Load stored records (after a restart or a rebalance) and re-arm their timers."""
        for account_id, data in stored:
            account = Account.from_dict(account_id, data)
            self.accounts[account_id] = account
            self._schedule(account)
            if account.score is not None and account.score.as_of_s is not None:
                self.watermark_s = max(self.watermark_s, float(account.score.as_of_s))

    # -- the clock -----------------------------------------------------------
    def process(self, events: Iterable[DomainEvent]) -> list[Emit]:
        """Apply a batch of this partition's events; return what to emit."""
        out: list[Emit] = []
        for event in sorted(events, key=_order):
            at_s = event.at.timestamp()
            out.extend(self._fire_until(at_s))
            if at_s > self.watermark_s:
                self.watermark_s = at_s
            out.extend(self._step(event))
        return out

    def advance(self, now_s: float) -> list[Emit]:
        """Move the clock to ``now_s`` without an event (the live tick)."""
        out = self._fire_until(now_s)
        if now_s > self.watermark_s:
            self.watermark_s = now_s
        return out

    def take_dirty(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Records to persist; each dirty account once, however many events it had."""
        dirty, self.dirty = self.dirty, set()
        for account_id in dirty:
            yield account_id, self.accounts[account_id].to_dict()

    # -- steps ---------------------------------------------------------------
    def _step(self, event: DomainEvent) -> list[Emit]:
        account = self._account(event.account_id)
        now = _dt(max(self.watermark_s, event.at.timestamp()))
        out = self._score(account, process_batch(account.score, (event,), self.model, now))
        for billing in _billing_inputs(event, account):
            policy = self.policies.for_segment(_segment(account))
            state = account.dunning or new_dunning_state(account.account_id)
            out.extend(self._dun(account, process_billing(state, (billing,), policy, now)))
        self._touch(account)
        return out

    def _wake(self, account: Account, due_s: float) -> list[Emit]:
        now = _dt(due_s)
        out = self._score(account, advance_time(account.score, self.model, now))
        due = account.dunning_due
        if account.dunning is not None and due is not None and due <= due_s:
            policy = self.policies.for_segment(_segment(account))
            out.extend(self._dun(account, advance_dunning(account.dunning, policy, now)))
        self._touch(account)
        return out

    def _score(self, account: Account, result: StepResult) -> list[Emit]:
        self.counts.applied += result.applied
        self.counts.duplicates += result.duplicates
        account.score = result.state
        out = [health_record(result.health)] if result.health is not None else []
        threshold = self.model.alerts.threshold
        out.extend(alert_record(alert, threshold) for alert in result.alerts)
        return out

    def _dun(self, account: Account, step: DunningStep) -> list[Emit]:
        account.set_dunning(step.state)
        profile = account.score.profile if account.score is not None else None
        return [dunning_record(decision, profile) for decision in step.decisions]

    # -- timers --------------------------------------------------------------
    def _fire_until(self, now_s: float) -> list[Emit]:
        out: list[Emit] = []
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            due_s, account_id = heapq.heappop(heap)
            if self._due.get(account_id) != due_s:
                continue  # superseded by a later schedule
            del self._due[account_id]
            out.extend(self._wake(self.accounts[account_id], due_s))
        return out

    def _touch(self, account: Account) -> None:
        self.dirty.add(account.account_id)
        self._schedule(account)

    def _schedule(self, account: Account) -> None:
        due = _next_wakeup(account)
        if due is None:
            self._due.pop(account.account_id, None)
            return
        if self._due.get(account.account_id) == due:
            return
        self._due[account.account_id] = due
        heapq.heappush(self._heap, (due, account.account_id))

    def _account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = Account(account_id)
        return account


def _order(event: DomainEvent) -> tuple[datetime, str]:
    return (event.at, event.id)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _segment(account: Account) -> str | None:
    score = account.score
    return score.profile.segment if score is not None and score.profile is not None else None


def _billing_inputs(event: DomainEvent, account: Account) -> tuple[BillingEvent, ...]:
    """Billing events drive dunning; a profile's renewal date counts as a
    renewal_scheduled too, so reminders work for producers that only send profiles."""
    if isinstance(event, BillingEvent):
        return (event,)
    if isinstance(event, AccountProfile) and event.renewal_at is not None:
        return (
            BillingEvent(
                id=f"{event.id}#renewal",
                account_id=event.account_id,
                kind="renewal_scheduled",
                at=event.at,
                renewal_at=event.renewal_at,
            ),
        )
    return ()


def _next_wakeup(account: Account) -> float | None:
    """The earliest moment this account's outputs could change without an event:
    the next day boundary (windows slide) while it has recent history, or its
    next dunning timer."""
    candidates: list[float] = []
    score = account.score
    if score is not None and score.as_of_s is not None:
        last = score.last_activity_s or score.as_of_s
        if score.as_of_s - last <= QUIET_AFTER_S:
            candidates.append((score.as_of_s // DAY_SECONDS + 1) * DAY_SECONDS)
    if account.dunning_due is not None:
        candidates.append(account.dunning_due)
    return min(candidates) if candidates else None
