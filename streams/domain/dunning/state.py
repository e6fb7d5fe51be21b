"""``DunningState``: everything the dunning engine remembers about one account.

Kept compact because the shell writes it to a changelog once per commit interval:
the open (and recently closed) invoice cases, the two reminder tracks, the clock
(watermark) and the last few billing event ids. Closed cases are pruned after
``DunningPolicy.retention_days``; they are kept until then only to absorb late
events (a duplicate failure or success for an invoice already settled).

The views here (``next_due_at``, ``open_failures``, ``open_cases``) are what the
shell needs to index timers, what the health score reads for the payment
dimension, and what ``GET /v1/accounts/{id}/dunning`` shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.domain.dunning.cases import InvoiceCase
from streams.domain.dunning.codec import opt_to_iso, read_opt_time, read_str, read_strs
from streams.domain.dunning.days import whole_days
from streams.domain.dunning.reminders import ReminderState, next_reminder_due

STATE_VERSION = 1
#: Billing event ids remembered per account to make a redelivered event harmless even
#: without the caller's de-duplication. Billing events are rare per account (a few a
#: month), so 32 ids cover far more than any redelivery window.
SEEN_IDS_KEPT = 32


@dataclass(frozen=True, slots=True)
class DunningState:
    """One account's dunning state; ``watermark`` is the latest event time applied."""

    account_id: str
    watermark: datetime | None = None
    cases: tuple[InvoiceCase, ...] = ()
    reminders: ReminderState = field(default_factory=ReminderState)
    seen_ids: tuple[str, ...] = ()

    def case_for(self, invoice_id: str) -> InvoiceCase | None:
        return next((case for case in self.cases if case.invoice_id == invoice_id), None)

    def has_seen(self, event_id: str) -> bool:
        return event_id in self.seen_ids

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible (str/int/bool/None/list/dict only), versioned."""
        return {
            "v": STATE_VERSION,
            "account": self.account_id,
            "wm": opt_to_iso(self.watermark),
            "cases": [case.to_dict() for case in self.cases],
            "reminders": self.reminders.to_dict(),
            "seen": list(self.seen_ids),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DunningState:
        if raw.get("v") != STATE_VERSION:
            raise ValueError(f"unsupported dunning state version {raw.get('v')!r}")
        cases = raw.get("cases", [])
        if not isinstance(cases, list):
            raise ValueError("dunning state field 'cases' must be a list")
        return cls(
            account_id=read_str(raw, "account"),
            watermark=read_opt_time(raw, "wm"),
            cases=tuple(InvoiceCase.from_dict(case) for case in cases),
            reminders=ReminderState.from_dict(raw.get("reminders") or {}),
            seen_ids=read_strs(raw, "seen"),
        )


@dataclass(frozen=True, slots=True)
class OpenFailures:
    """The payment dimension's input: how many invoices are in dunning, and for how long
    the oldest has been unpaid (whole days since its first failure)."""

    count: int
    max_days_past_due: int


def open_cases(state: DunningState) -> tuple[InvoiceCase, ...]:
    return tuple(case for case in state.cases if case.is_open)


def open_failures(state: DunningState, now: datetime) -> OpenFailures:
    cases = open_cases(state)
    days = [whole_days(now - case.opened_at) for case in cases]
    return OpenFailures(count=len(cases), max_days_past_due=max(days, default=0))


def next_due_at(state: DunningState) -> datetime | None:
    """Earliest moment anything of this account is due (open case timer or reminder), so
    the shell can index the account and call ``advance_dunning`` then. May be in the past
    if the state has not been advanced since."""
    dues = [case.next_due_at for case in state.cases if case.is_open and case.next_due_at]
    reminder = next_reminder_due(state.reminders)
    if reminder is not None:
        dues.append(reminder)
    return min(dues, default=None)
