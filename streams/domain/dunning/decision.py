"""What the dunning engine decides: one ``DunningDecision`` per message to send.

The engine only decides; the shell maps each decision onto a ``cs.dunning.v1``
CloudEvent (``type = io.healthscore.dunning.<step>``, ``id = decision.id``,
``subject = account_id``, ``time = decision.at``) and the notifier delivers it.

``id`` is derived from the decision's cause, never from a counter or the wall
clock: the same case step (or the same reminder of the same renewal date)
always gets the same id, so a replay, a restart that re-emits, or a retried
produce all de-duplicate downstream.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal, TypeAlias, get_args

from streams.domain.dunning.codec import opt_to_iso, to_iso

DunningStepName: TypeAlias = Literal[
    "payment_failed_notice",
    "retry_scheduled",
    "update_card_requested",
    "grace_started",
    "escalated",
    "canceled",
    "recovered",
    "renewal_reminder",
    "card_expiry_reminder",
]

DUNNING_STEPS: tuple[DunningStepName, ...] = get_args(DunningStepName)


@dataclass(frozen=True, slots=True)
class DunningDecision:
    """One dunning message, ready to be mapped onto the output event.

    - ``at``: event time of the cause (the billing event, or the due time of the timer
      that fired), never the worker's clock, so a replay reproduces it exactly.
    - ``attempt``: the payment attempt the decision is about (1 = the original charge).
      ``retry_scheduled`` carries the *planned* attempt; notices, card requests and the
      ladder steps carry the number of failed attempts seen so far. None on reminders.
    - ``next_due_at``: when this case (or reminder track) acts next; None once closed.
    - ``status``: the case status after this decision (``retrying``, ``open``, ``grace``,
      ``restricted``, ``recovered``, ``canceled``); None on reminders.
    - ``reason``: the decline code, the cancellation reason, or ``schedule`` when the
      ladder ran out.
    - ``target_at`` / ``days_before``: the renewal date or card expiry a reminder is for.
    """

    id: str
    account_id: str
    step: DunningStepName
    at: datetime
    attempt: int | None
    next_due_at: datetime | None
    invoice_id: str | None = None
    amount_cents: int | None = None
    currency: str | None = None
    payment_link: str | None = None
    status: str | None = None
    reason: str | None = None
    target_at: datetime | None = None
    days_before: int | None = None

    def __reduce__(self) -> tuple[type[DunningDecision], tuple[object, ...]]:
        """Pickle by constructor arguments. Compiled with mypyc, the class keeps
        the frozen ``__setattr__`` that default unpickling would call; the bench
        hands decisions to its floor process this way."""
        return (DunningDecision, tuple(getattr(self, f.name) for f in fields(self)))

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible form with ISO timestamps (the event ``data`` payload)."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "step": self.step,
            "at": to_iso(self.at),
            "attempt": self.attempt,
            "next_due_at": opt_to_iso(self.next_due_at),
            "invoice_id": self.invoice_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "payment_link": self.payment_link,
            "status": self.status,
            "reason": self.reason,
            "target_at": opt_to_iso(self.target_at),
            "days_before": self.days_before,
        }


def decision_id(*cause: str | int | datetime | None) -> str:
    """A stable id from the parts of a cause (account, invoice, case start, step, attempt...).

    SHA-256 over the unit-separated parts; 32 hex chars (128 bits) is plenty to never
    collide within one account's history and short enough for an idempotency key.
    """
    text = "\x1f".join(_part(part) for part in cause)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _part(part: str | int | datetime | None) -> str:
    if part is None:
        return ""
    if isinstance(part, datetime):
        return to_iso(part)
    return str(part)
