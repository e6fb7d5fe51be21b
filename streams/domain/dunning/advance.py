"""The dunning engine's entry points: apply billing events, fire due timers.

Ordering rule (what makes a batch, a replay and a live run agree):

1. Events are applied in event-time order (a stable sort: equal times keep the
   order the caller gave, i.e. the partition's offset order).
2. **Timers due at or before an event's time fire before that event.** So a
   batch ``[payment_succeeded at T]`` processed late, with ``now`` past several
   due timers, emits the steps due up to T, then exactly one ``recovered``, then
   nothing for that invoice: the closed case has no timer left.
3. After the event, anything it made due at once fires (e.g. a renewal learned
   after its 7-day reminder moment).
4. Finally timers due up to ``now`` fire, in due-time order.

The clock never goes backwards: it is ``max(now, watermark)``. An event older than
the watermark (out of order) is still applied with its own event time (a late
success still recovers; a late failure opens a case dated by its event time whose
overdue steps fire at once, each stamped with its own due time); only timers that
would have fired "before" it cannot be un-fired.

Idempotence: every timer fires once because firing moves or clears it, and the
state records it; ``advance_dunning`` twice with the same ``now`` emits nothing
the second time. The caller drops duplicate event ids, and the state also keeps
the last ``SEEN_IDS_KEPT`` billing ids, so a redelivered event is harmless here
too; a second *different* failure for the same invoice only counts an attempt.
Because the state is all there is, a shell that saves it before committing its
offsets continues after a restart without losing or repeating a decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple, TypeAlias

from streams.domain.dunning.cases import (
    CaseStep,
    InvoiceCase,
    cancel_case,
    fire_due,
    open_case,
    record_failure,
    recover_case,
)
from streams.domain.dunning.days import days_after, require_aware
from streams.domain.dunning.decision import DunningDecision
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.dunning.reminders import apply_reminder_event, fire_reminders
from streams.domain.dunning.state import SEEN_IDS_KEPT, DunningState
from streams.domain.events import BillingEvent

logger = logging.getLogger(__name__)

#: Whether a closing event (success or cancellation) settles an open case.
CaseMatcher: TypeAlias = Callable[[InvoiceCase, BillingEvent, DunningPolicy], bool]


class DunningStep(NamedTuple):
    """The new state and the decisions to emit, in emission order."""

    state: DunningState
    decisions: tuple[DunningDecision, ...]


def new_dunning_state(account_id: str) -> DunningState:
    return DunningState(account_id=account_id)


def advance_dunning(state: DunningState, policy: DunningPolicy, now: datetime) -> DunningStep:
    """Fire every timer due at or before ``now`` (watermark or live tick), each exactly
    once, in due-time order; prune closed cases past their retention."""
    clock = _clock(state, require_aware(now, "now"))
    decisions: list[DunningDecision] = []
    cases: list[InvoiceCase] = []
    for case in state.cases:
        case, fired = fire_due(case, state.account_id, policy, clock)
        cases.append(case)
        decisions.extend(fired)
    reminders, reminded = fire_reminders(state.reminders, state.account_id, policy, clock)
    decisions.extend(reminded)
    decisions.sort(key=lambda decision: decision.at)  # stable: per-case order is kept
    horizon = days_after(clock, -policy.retention_days)
    kept = tuple(c for c in cases if c.closed_at is None or c.closed_at >= horizon)
    new_state = replace(state, watermark=clock, cases=kept, reminders=reminders)
    return DunningStep(new_state, tuple(decisions))


def process_billing(
    state: DunningState, events: Sequence[BillingEvent], policy: DunningPolicy, now: datetime
) -> DunningStep:
    """Apply a batch of one account's billing events with timers interleaved (see the
    module docstring for the ordering rule), then advance to ``now``."""
    decisions: list[DunningDecision] = []
    for event in sorted(events, key=lambda event: event.at):
        if event.account_id != state.account_id:
            raise ValueError(
                f"billing event {event.id!r} is for {event.account_id!r}, not {state.account_id!r}"
            )
        if state.has_seen(event.id):
            continue
        state, fired = advance_dunning(state, policy, event.at)
        state, applied = apply_billing_event(state, event, policy)
        state, immediate = advance_dunning(state, policy, event.at)
        decisions.extend(fired + applied + immediate)
    state, final = advance_dunning(state, policy, now)
    return DunningStep(state, tuple(decisions) + final)


def apply_billing_event(
    state: DunningState, event: BillingEvent, policy: DunningPolicy
) -> DunningStep:
    """Apply one event to the cases and reminder tracks. Does not fire timers: call it
    through ``process_billing`` unless the caller interleaves timers itself."""
    seen = (*state.seen_ids, event.id)[-SEEN_IDS_KEPT:]
    reminders = apply_reminder_event(state.reminders, event, policy)
    cases, decisions = _apply_to_cases(state, event, policy)
    new_state = replace(state, cases=cases, reminders=reminders, seen_ids=seen)
    return DunningStep(new_state, decisions)


def _apply_to_cases(
    state: DunningState, event: BillingEvent, policy: DunningPolicy
) -> tuple[tuple[InvoiceCase, ...], tuple[DunningDecision, ...]]:
    if event.kind == "payment_failed":
        return _apply_failure(state, event, policy)
    if event.kind == "payment_succeeded":
        return _close_matching(state, event, policy, _is_recovered_by)
    if event.kind == "subscription_canceled":
        return _close_matching(state, event, policy, _is_canceled_by)
    return state.cases, ()


def _apply_failure(
    state: DunningState, event: BillingEvent, policy: DunningPolicy
) -> tuple[tuple[InvoiceCase, ...], tuple[DunningDecision, ...]]:
    """Open a case, count an attempt on the open one, or ignore a stale failure (one not
    newer than the closing of the invoice's last case, or older than the retention)."""
    if event.invoice_id is None:
        logger.warning("payment_failed %s without invoice_id ignored", event.id)
        return state.cases, ()
    case = state.case_for(event.invoice_id)
    if case is not None and case.is_open:
        step = record_failure(case, state.account_id, event, policy)
    elif _is_stale_failure(state, case, event, policy):
        return state.cases, ()
    else:
        step = open_case(state.account_id, event.invoice_id, event, policy)
    others = [c for c in state.cases if c.invoice_id != event.invoice_id]
    cases = sorted([*others, step.case], key=lambda c: (c.opened_at, c.invoice_id))
    return tuple(cases), step.decisions


def _is_stale_failure(
    state: DunningState, case: InvoiceCase | None, event: BillingEvent, policy: DunningPolicy
) -> bool:
    """A failure that must not open a case: not newer than the close of the invoice's last
    case (a redelivered or reordered failure), or older than the retention horizon
    (its case would already have been pruned, so it cannot be told apart from a replay)."""
    if case is not None and case.closed_at is not None and event.at <= case.closed_at:
        return True
    if state.watermark is None:
        return False
    return event.at < days_after(state.watermark, -policy.retention_days)


def _is_recovered_by(case: InvoiceCase, event: BillingEvent, policy: DunningPolicy) -> bool:
    matches = case.invoice_id == event.invoice_id or policy.recover_on_any_success
    return matches and event.at >= case.opened_at


def _is_canceled_by(case: InvoiceCase, event: BillingEvent, policy: DunningPolicy) -> bool:
    return event.at >= case.opened_at


def _close_matching(
    state: DunningState,
    event: BillingEvent,
    policy: DunningPolicy,
    matches: CaseMatcher,
) -> tuple[tuple[InvoiceCase, ...], tuple[DunningDecision, ...]]:
    """Close every open case the event settles: one terminal decision per case."""
    cases: list[InvoiceCase] = []
    decisions: list[DunningDecision] = []
    for case in state.cases:
        if case.is_open and matches(case, event, policy):
            step = _close(case, state.account_id, event, policy)
            case = step.case
            decisions.extend(step.decisions)
        cases.append(case)
    return tuple(cases), tuple(decisions)


def _close(
    case: InvoiceCase, account_id: str, event: BillingEvent, policy: DunningPolicy
) -> CaseStep:
    if event.kind == "payment_succeeded":
        return recover_case(case, account_id, event.at, policy)
    reason = event.reason or "subscription_canceled"
    return cancel_case(case, account_id, event.at, reason, policy)


def _clock(state: DunningState, now: datetime) -> datetime:
    return now if state.watermark is None or now > state.watermark else state.watermark
