"""The domain's entry point: one account, one step at a time.

An ``Account`` holds an account's scoring and dunning state side by side.
``step_event`` applies one input event and says what it decided; ``wake``
lets time pass for the account (windows slide, silence shows, dunning timers
fall due) without an event. The live worker (through
``streams.processing.engine``), ``healthscore replay`` and the bench's naive
baseline all go through these two functions, so what they decide is the same.

Decisions are the domain's own values (``HealthChange``, ``AlertDecision``,
``LifecycleDecision``, ``DunningNotice``), appended to a list the caller passes: a step allocates
nothing beyond what it decides. Turning them into output records is the
caller's business (``streams.processing.encode``).

Each event is its own step: it is applied (unless its id was applied
recently), then the account is settled at the caller's clock ``now_s``
(the event time if later), which rescores what the event may have moved and
runs the alert rules. Ids of what is decided are derived from the account,
the kind and the cause's event time, so re-running the same events gives
the same decisions.

A late event (older than what its account has already seen) is applied at
its own event time, into the buckets of its day, and settled at the clock.
One older than the account's retention (``retention_s``: that far behind
the newest event the account has seen) is refused with ``TooOldError``:
every window the model reads ends within it, so such an event could change
none, and the ids the account remembers to drop duplicates do not reach
back that far, so a re-sent one would be counted twice; applied anyway, a
year-old ticket would count as open now, a year-old failed payment as
unpaid for a year.
Profiles are the exception: a profile is a snapshot kept by event time (a
newer one wins whatever the arrival order), and the newest one a compacted
topic holds may be years old. ``docs/model.md`` states what late events can
and cannot trigger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from streams.domain.dunning.advance import (
    DunningStep,
    advance_dunning,
    new_dunning_state,
    process_billing,
)
from streams.domain.dunning.decision import DunningDecision
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.dunning.state import DunningState, next_due_at
from streams.domain.errors import TooOldError
from streams.domain.events import AccountProfile, BillingEvent, DomainEvent
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.apply import StateDraft
from streams.domain.scoring.lifecycle import LifecycleDecision
from streams.domain.scoring.model import ScoringModel
from streams.domain.scoring.state import AccountState, Profile
from streams.domain.scoring.step import HealthChange, apply_new, new_draft, settle
from streams.domain.scoring.touchpoints import TouchpointDecision
from streams.domain.scoring.windows import DAY_SECONDS, HORIZON_DAYS

#: The least retention of any model: the horizon of the windowed state, which
#: every window a model reads is validated to fit in (``retention_s``).
RETENTION_S = HORIZON_DAYS * DAY_SECONDS


def retention_s(model: ScoringModel) -> int:
    """How far behind the newest event its account has seen an input may be
    and still be applied: the longest the model looks back, the windowed
    state's horizon or the age up to which an NPS answer counts."""
    return max(RETENTION_S, model.nps_max_age_days * DAY_SECONDS)


#: Accounts silent for longer than this stop waking up daily: every window is
#: empty and the recency dimension has reached 0 by then, so a daily rescore
#: could not change anything.
QUIET_AFTER_S = 370 * DAY_SECONDS


@dataclass(frozen=True, slots=True)
class DunningNotice:
    """A dunning decision with the account's profile when it was taken (who
    owns the account, its segment and size go out with the decision)."""

    decision: DunningDecision
    profile: Profile | None

    def __reduce__(self) -> tuple[type[DunningNotice], tuple[object, ...]]:
        """Pickle by constructor arguments (see ``DunningDecision.__reduce__``)."""
        return (DunningNotice, (self.decision, self.profile))


#: What a step decides, in the order it is to be published.
Decision: TypeAlias = (
    HealthChange | AlertDecision | LifecycleDecision | TouchpointDecision | DunningNotice
)


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


def step_event(
    account: Account,
    event: DomainEvent,
    at_s: float,
    now_s: float,
    model: ScoringModel,
    policies: DunningPolicies,
    out: list[Decision],
    held: bool = False,
) -> bool:
    """Apply ``event`` (at ``at_s``, its time in unix seconds) to ``account``
    and settle it at ``now_s``; append what it decided to ``out``. Returns
    False for a duplicate: an id applied recently, or ``held`` (the caller
    knows the stored state already holds it), which only settles the clock."""
    draft = account.draft
    if draft is None:
        draft = account.draft = new_draft(AccountState(account.account_id), model)
    newest = draft.watermark_s
    if newest is not None and at_s < newest - RETENTION_S and not held:
        _refuse_if_too_old(event, at_s, newest, model)
    mask = None if held else apply_new(draft, event, int(at_s))
    if mask is None:
        health, alerts = settle(draft, model, int(now_s), 0, None)
    else:
        health, alerts = settle(draft, model, int(now_s), mask, int(at_s))
    if draft.lifecycle_out:
        out.extend(draft.lifecycle_out)
        draft.lifecycle_out = ()
    if health is not None:
        out.append(health)
    if alerts:
        out.extend(alerts)
    if isinstance(event, _DUNNING_INPUTS):
        now = _dt(now_s)
        for billing in _billing_inputs(event):
            policy = policies.for_segment(_segment(account))
            state = account.dunning or new_dunning_state(account.account_id)
            _dun(account, process_billing(state, (billing,), policy, now), out)
    return mask is not None


def wake(
    account: Account,
    due_s: float,
    model: ScoringModel,
    policies: DunningPolicies,
    out: list[Decision],
) -> None:
    """Let time pass for ``account`` up to ``due_s`` (its ``next_wakeup``, or
    any later time): rescore if a new day moved its windows, run the alert
    rules, fire the dunning timers due; append what it decided to ``out``."""
    draft = account.draft
    if draft is not None:
        health, alerts = settle(draft, model, int(due_s), 0, None)
        if draft.lifecycle_out:  # touchpoints fall due with time
            out.extend(draft.lifecycle_out)
            draft.lifecycle_out = ()
        if health is not None:
            out.append(health)
        if alerts:
            out.extend(alerts)
    due = account.dunning_due
    if account.dunning is not None and due is not None and due <= due_s:
        policy = policies.for_segment(_segment(account))
        _dun(account, advance_dunning(account.dunning, policy, _dt(due_s)), out)


def next_wakeup(account: Account) -> float | None:
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


_DUNNING_INPUTS = (BillingEvent, AccountProfile)


def _refuse_if_too_old(event: DomainEvent, at_s: float, newest_s: int, model: ScoringModel) -> None:
    """Raise ``TooOldError`` for ``event`` if it is older than its account's
    retention, unless it is a profile (see the module docstring)."""
    retention = retention_s(model)
    if isinstance(event, AccountProfile) or at_s >= newest_s - retention:
        return
    raise TooOldError(
        f"event time {event.at.isoformat()} is more than {retention // DAY_SECONDS} days"
        f" before the newest event of account {event.account_id!r}"
        f" ({_dt(newest_s).isoformat()}): no window reaches it, and its id may no longer"
        " be remembered to drop a duplicate"
    )


def _dun(account: Account, step: DunningStep, out: list[Decision]) -> None:
    account.set_dunning(step.state)
    profile = account.draft.profile if account.draft is not None else None
    for decision in step.decisions:
        out.append(DunningNotice(decision, profile))


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _segment(account: Account) -> str | None:
    draft = account.draft
    return draft.profile.segment if draft is not None and draft.profile is not None else None


def _billing_inputs(event: DomainEvent) -> tuple[BillingEvent, ...]:
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
