"""One account's steps as values, for the scoring tests.

``process_batch`` is a loop over the domain's entry point
(``streams.domain.account``): each event is its own ``step_event``, in event
time order, then a ``wake`` at ``now``, as the partition engine runs them
for one account. It returns the stored state and what the steps decided, so
a test can assert on both without an engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from streams.domain.account import Account, Decision, step_event, wake
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.events import DomainEvent
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.lifecycle import LifecycleDecision
from streams.domain.scoring.model import ScoringModel
from streams.domain.scoring.state import AccountState
from streams.domain.scoring.step import HealthChange, new_draft

POLICIES = DunningPolicies()


@dataclass(frozen=True, slots=True)
class StepResult:
    """The state to store and what the steps decided: the last health change
    (None if the score did not move), every alert and every lifecycle change,
    in order."""

    state: AccountState | None
    health: HealthChange | None
    alerts: tuple[AlertDecision, ...]
    applied: int
    duplicates: int
    lifecycle: tuple[LifecycleDecision, ...] = ()


def process_batch(
    state: AccountState | None,
    events: Sequence[DomainEvent],
    model: ScoringModel,
    now: datetime,
) -> StepResult:
    """Step one account's ``events`` in event-time order, then wake it at
    ``now``. ``state`` None = a new account."""
    if not events:
        return advance_time(state, model, now)
    ordered = sorted(events, key=lambda event: event.at)
    account_id = state.account_id if state is not None else ordered[0].account_id
    account = Account(account_id, new_draft(state or AccountState(account_id), model))
    decided: list[Decision] = []
    applied = 0
    for event in ordered:
        if event.account_id != account_id:
            raise ValueError(f"event {event.id} of {event.account_id} in a batch for {account_id}")
        at_s = event.at.timestamp()
        applied += step_event(account, event, at_s, at_s, model, POLICIES, decided)
    wake(account, now.timestamp(), model, POLICIES, decided)
    return _result(account, decided, applied, len(ordered) - applied)


def advance_time(state: AccountState | None, model: ScoringModel, now: datetime) -> StepResult:
    """Time passes without an event: windows slide, silence grows, the score
    may decay and alerts may fire."""
    if state is None:
        return StepResult(None, None, (), 0, 0)
    account = Account(state.account_id, new_draft(state, model))
    decided: list[Decision] = []
    wake(account, now.timestamp(), model, POLICIES, decided)
    return _result(account, decided, 0, 0)


def _result(account: Account, decided: list[Decision], applied: int, duplicates: int) -> StepResult:
    health = [d for d in decided if isinstance(d, HealthChange)]
    alerts = tuple(d for d in decided if isinstance(d, AlertDecision))
    changes = tuple(d for d in decided if isinstance(d, LifecycleDecision))
    last = health[-1] if health else None
    return StepResult(account.score, last, alerts, applied, duplicates, changes)
