"""The per-invoice dunning state machine: one ``InvoiceCase`` per failed invoice.

States and the default timeline (days from the first failure, see ``DunningPolicy``)::

    soft decline:  retrying --day 1,3,5,7--> open --day 7--> grace --day 14--> restricted
                                                                       --day 21--> canceled
    hard decline:  open (update card asked at once) --day 7--> grace --> restricted --> canceled
    any open state --payment_succeeded--> recovered      (terminal)
    any open state --subscription_canceled--> canceled   (terminal)

``open`` means "the customer was told, no retry is pending": after a hard decline,
or once the retries ran out before grace. Each case holds exactly one timer,
``next_due_at``; firing it emits at most one decision and sets the next one, so a
step can never be emitted twice. Decisions are stamped with the timer's due time,
not with the moment it was noticed, which is why a replay with daily ticks and a
live run with minute ticks produce the same decisions.

``retry_scheduled`` announces a retry: the first one together with the notice, each
later one when the previous retry's moment has passed. Retries themselves are run by
the billing system, which reports each outcome as payment_failed/payment_succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeAlias

from streams.domain.dunning.codec import (
    opt_to_iso,
    read_int,
    read_opt_int,
    read_opt_str,
    read_opt_time,
    read_str,
    read_time,
    to_iso,
)
from streams.domain.dunning.days import days_after
from streams.domain.dunning.decision import DunningDecision, DunningStepName, decision_id
from streams.domain.dunning.policy import DunningPolicy
from streams.domain.events import BillingEvent

CaseStatus: TypeAlias = Literal["retrying", "open", "grace", "restricted", "recovered", "canceled"]
OPEN_STATUSES: frozenset[str] = frozenset({"retrying", "open", "grace", "restricted"})
_STATUSES: frozenset[str] = OPEN_STATUSES | {"recovered", "canceled"}
#: Steps after which a payment link is pointless (the invoice is settled or written off).
_LINKLESS_STEPS: frozenset[str] = frozenset({"recovered", "canceled"})


@dataclass(frozen=True, slots=True)
class InvoiceCase:
    """One invoice's dunning case. ``opened_at`` (the first failure's event time) anchors
    every scheduled day and, with the invoice id, identifies the case in decision ids."""

    invoice_id: str
    opened_at: datetime
    status: CaseStatus
    attempts: int = 1
    retries_done: int = 0
    card_requested: bool = False
    next_due_at: datetime | None = None
    amount_cents: int | None = None
    currency: str | None = None
    decline_code: str | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_due(self, clock: datetime) -> bool:
        return self.is_open and self.next_due_at is not None and self.next_due_at <= clock

    def to_dict(self) -> dict[str, object]:
        return {
            "inv": self.invoice_id,
            "opened": to_iso(self.opened_at),
            "status": self.status,
            "attempts": self.attempts,
            "retries": self.retries_done,
            "card": self.card_requested,
            "due": opt_to_iso(self.next_due_at),
            "amount": self.amount_cents,
            "cur": self.currency,
            "decline": self.decline_code,
            "closed": opt_to_iso(self.closed_at),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InvoiceCase:
        status = read_str(raw, "status")
        if status not in _STATUSES:
            raise ValueError(f"unknown dunning case status {status!r}")
        return cls(
            invoice_id=read_str(raw, "inv"),
            opened_at=read_time(raw, "opened"),
            status=status,  # type: ignore[arg-type]  # checked against _STATUSES above
            attempts=read_int(raw, "attempts"),
            retries_done=read_int(raw, "retries"),
            card_requested=bool(raw.get("card", False)),
            next_due_at=read_opt_time(raw, "due"),
            amount_cents=read_opt_int(raw, "amount"),
            currency=read_opt_str(raw, "cur"),
            decline_code=read_opt_str(raw, "decline"),
            closed_at=read_opt_time(raw, "closed"),
        )


class CaseStep(NamedTuple):
    """A case after a transition and what the transition decided."""

    case: InvoiceCase
    decisions: tuple[DunningDecision, ...]


def open_case(
    account_id: str, invoice_id: str, event: BillingEvent, policy: DunningPolicy
) -> CaseStep:
    """First failure of an invoice: tell the customer at once. A soft decline also
    announces the first retry; a hard one asks for a new card instead of a notice."""
    code = event.decline_code
    hard = policy.is_hard_decline(code)
    case = InvoiceCase(
        invoice_id=invoice_id,
        opened_at=event.at,
        status="retrying",
        amount_cents=event.amount_cents,
        currency=event.currency,
        decline_code=event.decline_code,
    )
    if hard or not policy.retry_days:
        case = replace(
            case,
            status="open",
            card_requested=hard,
            next_due_at=days_after(event.at, policy.grace_start_day),
        )
        step: DunningStepName = "update_card_requested" if hard else "payment_failed_notice"
        return CaseStep(case, (_decide(account_id, case, step, event.at, 1, policy, code),))
    case = replace(case, next_due_at=days_after(event.at, policy.retry_days[0]))
    return CaseStep(
        case,
        (
            _decide(account_id, case, "payment_failed_notice", event.at, 1, policy, code),
            _decide(account_id, case, "retry_scheduled", event.at, 2, policy, code),
        ),
    )


def record_failure(
    case: InvoiceCase, account_id: str, event: BillingEvent, policy: DunningPolicy
) -> CaseStep:
    """Another failure of an open case (usually a retry's outcome): count the attempt and
    keep the schedule, so the notice is never re-sent. A hard decline switches the case
    to "update your card" once; the remaining retries are dropped."""
    case = replace(
        case,
        attempts=case.attempts + 1,
        amount_cents=event.amount_cents if event.amount_cents is not None else case.amount_cents,
        currency=event.currency or case.currency,
        decline_code=event.decline_code or case.decline_code,
    )
    if case.card_requested or not policy.is_hard_decline(event.decline_code):
        return CaseStep(case, ())
    case = replace(case, card_requested=True)
    if case.status == "retrying":
        grace_at = days_after(case.opened_at, policy.grace_start_day)
        case = replace(case, status="open", next_due_at=max(event.at, grace_at))
    step: DunningStepName = "update_card_requested"
    decision = _decide(account_id, case, step, event.at, case.attempts, policy, case.decline_code)
    return CaseStep(case, (decision,))


def recover_case(
    case: InvoiceCase, account_id: str, at: datetime, policy: DunningPolicy
) -> CaseStep:
    """Payment went through: close the case; no timer of it can fire afterwards."""
    case = replace(case, status="recovered", next_due_at=None, closed_at=at)
    return CaseStep(case, (_decide(account_id, case, "recovered", at, case.attempts, policy),))


def cancel_case(
    case: InvoiceCase, account_id: str, at: datetime, reason: str, policy: DunningPolicy
) -> CaseStep:
    """Close the case as canceled (subscription canceled, or the ladder ran out)."""
    case = replace(case, status="canceled", next_due_at=None, closed_at=at)
    decision = _decide(account_id, case, "canceled", at, case.attempts, policy, reason=reason)
    return CaseStep(case, (decision,))


def fire_due(
    case: InvoiceCase, account_id: str, policy: DunningPolicy, clock: datetime
) -> CaseStep:
    """Fire every timer of the case due at or before ``clock``, in order, each once."""
    decisions: list[DunningDecision] = []
    while case.is_due(clock):
        case, decision = _fire_once(case, account_id, policy)
        if decision is not None:
            decisions.append(decision)
    return CaseStep(case, tuple(decisions))


def _fire_once(
    case: InvoiceCase, account_id: str, policy: DunningPolicy
) -> tuple[InvoiceCase, DunningDecision | None]:
    """One timer: move to the next rung and say so. Next due times never go backwards,
    even if the policy changed under an open case."""
    due = case.next_due_at
    assert due is not None, "fire_due only fires cases with a timer"
    opened = case.opened_at
    if case.status == "retrying":
        done = case.retries_done + 1
        if done < len(policy.retry_days):
            next_at = max(due, days_after(opened, policy.retry_days[done]))
            case = replace(case, retries_done=done, next_due_at=next_at)
            decision = _decide(
                account_id, case, "retry_scheduled", due, done + 2, policy, case.decline_code
            )
            return case, decision
        grace_at = max(due, days_after(opened, policy.grace_start_day))
        return replace(case, retries_done=done, status="open", next_due_at=grace_at), None
    if case.status == "open":
        next_at = max(due, days_after(opened, policy.restrict_day))
        case = replace(case, status="grace", next_due_at=next_at)
        return case, _decide(account_id, case, "grace_started", due, case.attempts, policy)
    if case.status == "grace":
        next_at = max(due, days_after(opened, policy.cancel_day))
        case = replace(case, status="restricted", next_due_at=next_at)
        return case, _decide(account_id, case, "escalated", due, case.attempts, policy)
    closed, decisions = cancel_case(case, account_id, due, "schedule", policy)
    return closed, decisions[0]


def _decide(
    account_id: str,
    case: InvoiceCase,
    step: DunningStepName,
    at: datetime,
    attempt: int,
    policy: DunningPolicy,
    reason: str | None = None,
) -> DunningDecision:
    """Build a decision from the case *after* its transition.

    ``reason`` is the decline code on notices, retries and card requests and the
    cancellation reason on cancels. The id is the cause: the case (account, invoice,
    first failure) and the step, plus the attempt for retries, the only step a case
    emits more than once."""
    id_attempt = attempt if step == "retry_scheduled" else None
    link = None if step in _LINKLESS_STEPS else policy.payment_link(account_id, case.invoice_id)
    return DunningDecision(
        id=decision_id(account_id, case.invoice_id, case.opened_at, step, id_attempt),
        account_id=account_id,
        step=step,
        at=at,
        attempt=attempt,
        next_due_at=case.next_due_at,
        invoice_id=case.invoice_id,
        amount_cents=case.amount_cents,
        currency=case.currency,
        payment_link=link,
        status=case.status,
        reason=reason,
    )
