"""The per-partition engine: event-time clock, timers and per-account steps.

Plain Python with no Faust import, so the live agent and ``healthscore
replay`` run exactly the same code. The agent feeds it decoded events and
persists what it marks dirty; replay feeds it a file. Each account's step is
the domain's entry point (``streams.domain.account``); the engine returns the
domain's decisions, and its caller encodes them (``streams.processing.encode``).

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
from operator import attrgetter
from typing import Any

from streams.domain.account import Account, Decision, next_wakeup, step_event, wake
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.errors import TooOldError
from streams.domain.events import DomainEvent
from streams.domain.scoring.model import ScoringModel


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
    #: Inputs whose step raised, with the error and the dead letter's kind
    #: of reason: the caller dead-letters them (``take_failed``). A step
    #: that raises is a bug or an input no check foresaw (``engine_error``);
    #: stopping there would stop the partition for good, as every restart
    #: reads the same input again. What the step changed before it raised
    #: stays, and its outputs before the error are sent. An input older than
    #: its account's retention is refused before it changes anything
    #: (``too_old``, ``streams.domain.account``).
    failed: list[tuple[DomainEvent, str, str]] = field(default_factory=list)

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
    ) -> list[Decision]:
        """Apply a batch of this partition's events; return what they decided.

        ``held``: (account, input id) of re-read inputs the account's state
        already holds (``streams.processing.reread``); they are duplicates, whether or
        not their ids are among the ones the account remembers.

        ``defer_wakes``: before each event, fire only *its* account's timers
        due by the clock; the others stay overdue for ``fire_overdue``. An account's
        outputs do not depend on other accounts, so each account's outputs are
        the same either way (only their order across accounts differs), and
        a batch after midnight no longer pays for every account's wake."""
        out: list[Decision] = []
        for event in sorted(events, key=EVENT_ORDER):
            try:
                self._apply(event, out, defer_wakes, held)
            # Two names: compiled (mypyc), one name is typed by its first handler.
            except TooOldError as refused:
                self.failed.append((event, str(refused), refused.kind))
            except Exception as exc:
                self.failed.append((event, f"{type(exc).__name__}: {exc}", "engine_error"))
        return out

    def _apply(
        self,
        event: DomainEvent,
        out: list[Decision],
        defer_wakes: bool,
        held: Collection[tuple[str, str]] | None,
    ) -> None:
        at_s = event.at.timestamp()
        # The step settles its account at the clock (the event time if
        # later): its timers due by then fire first, at their due times.
        now_s = at_s if at_s > self.watermark_s else self.watermark_s
        heap = self._heap
        if heap and heap[0][0] <= now_s:
            if defer_wakes:
                self._fire_account(event.account_id, now_s, out)
            else:
                self._fire_until(now_s, out)
        self.watermark_s = now_s
        self._step(event, at_s, now_s, out, held)

    def advance(self, now_s: float, *, defer_wakes: bool = False) -> list[Decision]:
        """Move the clock to ``now_s`` without an event (the live tick);
        ``defer_wakes`` leaves the timers due by then to ``fire_overdue``."""
        out: list[Decision] = []
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

    def fire_overdue(self, limit: int) -> list[Decision]:
        """Fire up to ``limit`` of the timers due by the clock, earliest first,
        each at its own due time (so its outputs are what firing it on time
        would have given)."""
        out: list[Decision] = []
        self._fire_until(self.watermark_s, out, limit)
        return out

    def take_failed(self) -> list[tuple[DomainEvent, str, str]]:
        """The inputs whose step raised since the last call, with the error
        and its kind."""
        failed, self.failed = self.failed, []
        return failed

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
        out: list[Decision],
        held: Collection[tuple[str, str]] | None = None,
    ) -> None:
        account = self._account(event.account_id)
        known = (event.account_id, event.id) in held if held else False
        if step_event(account, event, at_s, now_s, self.model, self.policies, out, known):
            self.counts.applied += 1
        else:
            self.counts.duplicates += 1
        self._touch(account)

    # -- timers --------------------------------------------------------------
    def _fire_until(self, now_s: float, out: list[Decision], limit: int | None = None) -> None:
        heap, due = self._heap, self._due
        fired = 0
        while heap and heap[0][0] <= now_s and (limit is None or fired < limit):
            due_s, account_id = heapq.heappop(heap)
            if due.get(account_id) != due_s:
                continue  # superseded by a later schedule, or fired early
            del due[account_id]
            self._wake(self.accounts[account_id], due_s, out)
            fired += 1

    def _wake(self, account: Account, due_s: float, out: list[Decision]) -> None:
        wake(account, due_s, self.model, self.policies, out)
        self._touch(account)

    def _fire_account(self, account_id: str, now_s: float, out: list[Decision]) -> None:
        """One account's timers due by ``now_s``, in order. Their heap entries
        stay behind and are skipped when they surface (``_due`` moved on)."""
        due = self._due
        due_s = due.get(account_id)
        while due_s is not None and due_s <= now_s:
            del due[account_id]
            self._wake(self.accounts[account_id], due_s, out)
            due_s = due.get(account_id)

    def _touch(self, account: Account) -> None:
        self.dirty.add(account.account_id)
        self._schedule(account)

    def _schedule(self, account: Account) -> None:
        due = next_wakeup(account)
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
