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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from streams.domain.dunning.advance import (
    DunningStep,
    advance_dunning,
    new_dunning_state,
    process_billing,
)
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.dunning.state import DunningState, next_due_at
from streams.domain.events import AccountProfile, BillingEvent, DomainEvent
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.apply import StateDraft
from streams.domain.scoring.model import ScoringModel
from streams.domain.scoring.state import AccountState
from streams.domain.scoring.step import HealthChange, apply_new, new_draft, settle
from streams.domain.scoring.windows import DAY_SECONDS
from streams.processing.encode import (
    Emit,
    alert_record,
    dunning_record,
    health_record,
    lifecycle_record,
)

#: Accounts silent for longer than this stop waking up daily: every window is
#: empty and the recency dimension has reached 0 by then, so a daily rescore
#: could not change anything.
QUIET_AFTER_S = 370 * DAY_SECONDS


@dataclass(slots=True)
class Account:
    """One account's record: scoring and dunning state side by side.

    The scoring state is kept as a mutable ``StateDraft`` between steps and
    frozen only when the record is persisted (``to_dict``), once per commit
    interval rather than once per event."""

    account_id: str
    draft: StateDraft | None = None
    dunning: DunningState | None = None
    #: ``next_due_at(dunning)`` in unix seconds, kept because it is asked on
    #: every step and changes only when the dunning state does.
    dunning_due: float | None = None

    @property
    def score(self) -> AccountState | None:
        """The scoring state as stored (a frozen copy of the draft)."""
        return self.draft.freeze() if self.draft is not None else None

    def set_dunning(self, state: DunningState) -> None:
        self.dunning = state
        due = next_due_at(state)
        self.dunning_due = due.timestamp() if due is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.draft is not None:
            out["s"] = self.draft.freeze().to_dict()
        if self.dunning is not None:
            out["d"] = self.dunning.to_dict()
        return out

    @classmethod
    def from_dict(cls, account_id: str, data: Mapping[str, Any], model: ScoringModel) -> Account:
        draft = new_draft(AccountState.from_dict(data["s"]), model) if "s" in data else None
        account = cls(account_id, draft)
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
    def restore(
        self, stored: Iterable[tuple[str, Mapping[str, Any]]], *, clock_s: float | None = None
    ) -> None:
        """Load stored records (after a restart or a rebalance) and re-arm their
        timers. ``clock_s``: the partition clock at the offsets reading resumes
        from (``streams.processing.clock``); without it, the latest ``as_of`` stored,
        which is only right when no record is ahead of those offsets."""
        latest = 0.0
        for account_id, data in stored:
            account = Account.from_dict(account_id, data, self.model)
            self.accounts[account_id] = account
            self._schedule(account)
            if account.draft is not None and account.draft.as_of_s is not None:
                latest = max(latest, float(account.draft.as_of_s))
        self.watermark_s = max(self.watermark_s, latest if clock_s is None else clock_s)

    # -- the clock -----------------------------------------------------------
    def process(
        self,
        events: Iterable[DomainEvent],
        *,
        defer_wakes: bool = False,
        held: Collection[tuple[str, str]] | None = None,
    ) -> list[Emit]:
        """Apply a batch of this partition's events; return what to emit.

        ``held``: (account, input id) of re-read inputs the account's state
        already holds (``streams.processing.reread``); they are duplicates, whether or
        not their ids are among the ones the account remembers.

        ``defer_wakes``: before each event, fire only *its* account's timers
        due by the clock; the others stay overdue for ``fire_overdue``. An account's
        outputs do not depend on other accounts, so each account's outputs are
        the same either way (only their order across accounts differs), and
        a batch after midnight no longer pays for every account's wake."""
        out: list[Emit] = []
        heap = self._heap
        for event in sorted(events, key=EVENT_ORDER):
            at_s = event.at.timestamp()
            # The step settles its account at the clock (the event time if
            # later): its timers due by then fire first, at their due times.
            now_s = at_s if at_s > self.watermark_s else self.watermark_s
            if heap and heap[0][0] <= now_s:
                if defer_wakes:
                    self._fire_account(event.account_id, now_s, out)
                else:
                    self._fire_until(now_s, out)
            self.watermark_s = now_s
            self._step(event, at_s, now_s, out, held)
        return out

    def advance(self, now_s: float, *, defer_wakes: bool = False) -> list[Emit]:
        """Move the clock to ``now_s`` without an event (the live tick);
        ``defer_wakes`` leaves the timers due by then to ``fire_overdue``."""
        out: list[Emit] = []
        if not defer_wakes:
            self._fire_until(now_s, out)
        if now_s > self.watermark_s:
            self.watermark_s = now_s
        return out

    @property
    def overdue(self) -> bool:
        """Whether a timer is due at or before the clock (deferred wakes)."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= self.watermark_s

    def fire_overdue(self, limit: int) -> list[Emit]:
        """Fire up to ``limit`` of the timers due by the clock, earliest first,
        each at its own due time (so its outputs are what firing it on time
        would have given)."""
        out: list[Emit] = []
        self._fire_until(self.watermark_s, out, limit)
        return out

    def take_dirty_ids(self) -> set[str]:
        """The accounts changed since the last call, to be written later with
        ``record`` (which writes their state as it is then): each dirty
        account once, however many events it had."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def record(self, account_id: str) -> dict[str, Any]:
        """The account's stored form now."""
        return self.accounts[account_id].to_dict()

    # -- steps ---------------------------------------------------------------
    def _step(
        self,
        event: DomainEvent,
        at_s: float,
        now_s: float,
        out: list[Emit],
        held: Collection[tuple[str, str]] | None = None,
    ) -> None:
        account = self._account(event.account_id)
        draft = account.draft
        if draft is None:
            draft = account.draft = new_draft(AccountState(account.account_id), self.model)
        if held and (event.account_id, event.id) in held:
            mask = None
        else:
            mask = apply_new(draft, event, int(at_s))
        if mask is None:
            self.counts.duplicates += 1
            health, alerts = settle(draft, self.model, int(now_s), 0, None)
        else:
            self.counts.applied += 1
            health, alerts = settle(draft, self.model, int(now_s), mask, int(at_s))
        if draft.lifecycle_out:
            out.extend(lifecycle_record(change) for change in draft.lifecycle_out)
            draft.lifecycle_out = ()
        if health is not None or alerts:
            self._score(health, alerts, out)
        if isinstance(event, _DUNNING_INPUTS):
            now = _dt(now_s)
            for billing in _billing_inputs(event, account):
                policy = self.policies.for_segment(_segment(account))
                state = account.dunning or new_dunning_state(account.account_id)
                out.extend(self._dun(account, process_billing(state, (billing,), policy, now)))
        self._touch(account)

    def _wake(self, account: Account, due_s: float) -> list[Emit]:
        out: list[Emit] = []
        if account.draft is not None:
            health, alerts = settle(account.draft, self.model, int(due_s), 0, None)
            if health is not None or alerts:
                self._score(health, alerts, out)
        due = account.dunning_due
        if account.dunning is not None and due is not None and due <= due_s:
            policy = self.policies.for_segment(_segment(account))
            out.extend(self._dun(account, advance_dunning(account.dunning, policy, _dt(due_s))))
        self._touch(account)
        return out

    def _score(
        self, health: HealthChange | None, alerts: tuple[AlertDecision, ...], out: list[Emit]
    ) -> None:
        if health is not None:
            out.append(health_record(health))
        threshold = self.model.alerts.threshold
        out.extend(alert_record(alert, threshold) for alert in alerts)

    def _dun(self, account: Account, step: DunningStep) -> list[Emit]:
        account.set_dunning(step.state)
        profile = account.draft.profile if account.draft is not None else None
        return [dunning_record(decision, profile) for decision in step.decisions]

    # -- timers --------------------------------------------------------------
    def _fire_until(self, now_s: float, out: list[Emit], limit: int | None = None) -> None:
        heap, due = self._heap, self._due
        fired = 0
        while heap and heap[0][0] <= now_s and (limit is None or fired < limit):
            due_s, account_id = heapq.heappop(heap)
            if due.get(account_id) != due_s:
                continue  # superseded by a later schedule, or fired early
            del due[account_id]
            out.extend(self._wake(self.accounts[account_id], due_s))
            fired += 1

    def _fire_account(self, account_id: str, now_s: float, out: list[Emit]) -> None:
        """One account's timers due by ``now_s``, in order. Their heap entries
        stay behind and are skipped when they surface (``_due`` moved on)."""
        due = self._due
        due_s = due.get(account_id)
        while due_s is not None and due_s <= now_s:
            del due[account_id]
            out.extend(self._wake(self.accounts[account_id], due_s))
            due_s = due.get(account_id)

    def _touch(self, account: Account) -> None:
        self.dirty.add(account.account_id)
        self._schedule(account)

    def _schedule(self, account: Account) -> None:
        due = _next_wakeup(account)
        account_id = account.account_id
        if due is None:
            self._due.pop(account_id, None)
        elif self._due.get(account_id) != due:
            self._due[account_id] = due
            heapq.heappush(self._heap, (due, account_id))

    def _account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = Account(account_id)
        return account


EVENT_ORDER = attrgetter("at", "id")
"""A batch's processing order: ``(event time, id)`` (a C-level key, one call per event)."""
_DUNNING_INPUTS = (BillingEvent, AccountProfile)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _segment(account: Account) -> str | None:
    draft = account.draft
    return draft.profile.segment if draft is not None and draft.profile is not None else None


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
    due = account.dunning_due
    score = account.draft
    if score is None or score.churn is not None:
        return due
    as_of = score.as_of_s
    if as_of is None or as_of - (score.last_activity_s or as_of) > QUIET_AFTER_S:
        return due
    midnight = (as_of // DAY_SECONDS + 1) * DAY_SECONDS
    return midnight if due is None or midnight <= due else due
