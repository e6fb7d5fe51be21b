"""Sparse, whole-history event plans: profile, invoices, declines, tickets, surveys.

These events are few per account (tens, against hundreds of usage events), and
their shape spans days (a ticket opened Monday is solved Wednesday, a declined
invoice is retried three days later), so they are planned once per account for
the whole history and handed to the generator bucketed by day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from schemas import topics
from services.simulator.churn import (
    DISENGAGING,
    HARD_DECLINE,
    TICKET_STORM,
)
from services.simulator.clock import DAY, HOUR, MINUTE, calendar_day
from services.simulator.fragments import RawEvent, head, tail
from services.simulator.population import (
    SOFT_DECLINE,
    Account,
)

Formatter = Callable[[int], str]

_PRIORITIES = ("low",) * 30 + ("normal",) * 55 + ("high",) * 12 + ("urgent",) * 3
_NPS_COMMENTS = {
    "high": ("Love the dashboards", "Great support team", "Saves us hours every week"),
    "low": ("Too many outages lately", "Support is slow", "Not sure we still need it"),
}
#: Smart-retry spacing after a soft decline, as payment processors schedule it.
_RETRY_DELAYS = (3 * DAY, 5 * DAY)


class AccountPlanner:
    """Plans one account's sparse events; ``events`` collects them unsorted."""

    def __init__(
        self, account: Account, rng: random.Random, fmt: Formatter, start: int, end: int
    ) -> None:
        self.acc = account
        self.rng = rng
        self.fmt = fmt
        self.start = start
        self.end = end
        self.key = account.account_id.encode()
        self.events: list[RawEvent] = []

    def add(self, t: int, topic: str, type_: str, **fields: Any) -> None:
        """Plan an event, unless it falls outside the history or the account's life
        (before it was created, after it was canceled)."""
        acc = self.acc
        if acc.cancel_at is not None and t > acc.cancel_at:
            return
        if self.start <= t < self.end and t >= acc.created_at:
            self.events.append((t, topic, self.key, head(self.acc.account_id, type_), tail(fields)))

    def plan(self, invoice_days: list[tuple[int, str]]) -> list[RawEvent]:
        self.profile()
        self.invoices(invoice_days)
        self.cancellation()
        self.renewal()
        self.card_expiry()
        self.tickets()
        self.surveys()
        self.seats()
        return self.events

    def profile(self) -> None:
        acc = self.acc
        fields: dict[str, Any] = {
            "name": acc.name,
            "segment": acc.segment,
            "arr_cents": acc.arr_cents,
            "owner": acc.owner,
            "industry": acc.industry,
            "plan": acc.plan,
        }
        if acc.renewal_at is not None:
            fields["renewal_at"] = self.fmt(acc.renewal_at)
        fields["created_at"] = self.fmt(acc.created_at)
        self.add(max(self.start, acc.created_at), topics.ACCOUNTS, "account_upserted", **fields)
        if acc.created_at >= self.start:
            # Whoever signed up logs in right away, onboarded or not.
            user = f"{acc.account_id}-u1"
            self.add(acc.created_at + 10 * MINUTE, topics.USAGE, "login", user_id=user)

    def _payment(self, t: int, type_: str, invoice: str, **extra: Any) -> None:
        self.add(
            t,
            topics.BILLING,
            type_,
            invoice_id=invoice,
            amount_cents=self.acc.monthly_cents,
            currency=self.acc.currency,
            **extra,
        )

    def invoices(self, invoice_days: list[tuple[int, str]]) -> None:
        """Monthly invoices on the billing day; the one on the decline day fails."""
        acc = self.acc
        if not acc.is_paid:
            return
        decline_day = acc.decline_at // DAY if acc.decline_at is not None else None
        # After a hard decline the subscription is canceled: no later invoices.
        last_day = decline_day if decline_day is not None and HARD_DECLINE in acc.personas else None
        if acc.cancel_at is not None:
            last_day = min(last_day or acc.cancel_at // DAY, acc.cancel_at // DAY)
        for day, yyyymm in invoice_days:
            invoice = f"in_{acc.index:05d}_{yyyymm}"
            if day == decline_day:
                self.decline(invoice)
            elif last_day is None or day < last_day:
                self._payment(
                    day * DAY + self.rng.randint(2 * HOUR, 6 * HOUR), "payment_succeeded", invoice
                )

    def decline(self, invoice: str) -> None:
        acc = self.acc
        assert acc.decline_at is not None and acc.decline_code is not None
        t = acc.decline_at
        self._payment(t, "payment_failed", invoice, decline_code=acc.decline_code)
        if SOFT_DECLINE in acc.personas:
            retries = self.rng.randint(1, 2)
            for n, delay in enumerate(_RETRY_DELAYS[:retries], start=1):
                at = t + delay + self.rng.randint(0, 2 * HOUR)
                if n < retries:
                    self._payment(at, "payment_failed", invoice, decline_code=acc.decline_code)
                else:
                    self._payment(at, "payment_succeeded", invoice)

    def cancellation(self) -> None:
        """The churn outcome: ``subscription_canceled`` with the customer's reason
        (``payment_failed`` when dunning could not recover a hard decline)."""
        acc = self.acc
        if acc.cancel_at is None:
            return
        fields: dict[str, Any] = {"reason": acc.cancel_reason}
        if acc.is_paid:
            fields.update(amount_cents=acc.monthly_cents, currency=acc.currency)
        if HARD_DECLINE in acc.personas and acc.decline_at is not None:
            fields["invoice_id"] = f"in_{acc.index:05d}_{_yyyymm(acc.decline_at)}"
        self.add(acc.cancel_at, topics.BILLING, "subscription_canceled", **fields)

    def renewal(self) -> None:
        acc = self.acc
        if acc.renewal_at is None or acc.renewal_at - self.end > 30 * DAY:
            return
        at = max(self.start + HOUR, acc.created_at + HOUR, acc.renewal_at - 30 * DAY)
        self.add(
            at,
            topics.BILLING,
            "renewal_scheduled",
            invoice_id=f"in_{acc.index:05d}_renewal",
            amount_cents=acc.arr_cents,
            currency=acc.currency,
            renewal_at=self.fmt(acc.renewal_at),
        )

    def card_expiry(self) -> None:
        acc = self.acc
        if acc.card_notice_at is None or acc.card_expires_at is None:
            return
        self.add(
            acc.card_notice_at,
            topics.BILLING,
            "card_expiring",
            card_expires_at=self.fmt(acc.card_expires_at),
        )

    def ticket(self, t: int, number: int, priority: str, *, unhappy: bool) -> None:
        """One ticket's lifecycle: open, an update or two, solve (maybe reopen)."""
        rng = self.rng
        tid = f"T-{self.acc.index:05d}-{number}"
        self.add(t, topics.TICKETS, "ticket_opened", ticket_id=tid, priority=priority)
        for _ in range(rng.randint(1, 3 if unhappy else 2)):
            t += rng.randint(30 * MINUTE, 8 * HOUR)
            self.add(t, topics.TICKETS, "ticket_updated", ticket_id=tid, priority=priority)
        reopen = rng.random() < (0.5 if unhappy else 0.05)
        for solve in range(2 if reopen else 1):
            t += rng.randint(2 * HOUR, (48 if unhappy else 24) * HOUR)
            csat = rng.randint(1, 2) if unhappy else rng.choice((4, 5, 5))
            self.add(
                t, topics.TICKETS, "ticket_solved", ticket_id=tid, priority=priority, csat=csat
            )
            if rng.random() < 0.4:
                self.add(
                    t + rng.randint(MINUTE, 6 * HOUR), topics.FEEDBACK, "csat_response", score=csat
                )
            if solve == 0 and reopen:
                t += rng.randint(HOUR, 24 * HOUR)
                self.add(t, topics.TICKETS, "ticket_reopened", ticket_id=tid, priority=priority)

    def tickets(self) -> None:
        acc, rng = self.acc, self.rng
        per_day = {"free": 0.01, "smb": 0.03, "mid_market": 0.06, "enterprise": 0.12}[acc.segment]
        number = 0
        t = max(self.start, acc.created_at)
        quiet_from = min(x for x in (acc.silent_from, acc.cancel_at, self.end) if x is not None)
        while True:
            t += int(rng.expovariate(per_day) * DAY)
            if t >= quiet_from:
                break
            number += 1
            self.ticket(t, number, rng.choice(_PRIORITIES), unhappy=False)
        if acc.storm_at is not None:
            for _ in range(rng.randint(4, 8)):
                number += 1
                at = acc.storm_at + rng.randint(0, 2 * DAY)
                self.ticket(at, number, rng.choice(("high", "urgent", "urgent")), unhappy=True)

    def surveys(self) -> None:
        acc, rng = self.acc, self.rng
        warned = acc.warning_nps_at is not None
        unhappy = DISENGAGING in acc.personas or TICKET_STORM in acc.personas or warned
        if not unhappy and rng.random() > 0.5:
            return
        if acc.warning_nps_at is not None:
            begin, score = acc.warning_nps_at, rng.randint(2, 6)
        elif unhappy:
            begin = acc.storm_at or (acc.silent_from or self.end) - 5 * DAY
            score = rng.randint(0, 5)
        else:
            begin = self.start + rng.randint(0, max(1, self.end - self.start))
            score = rng.choice((7, 8, 9, 9, 10, 10))
        fields: dict[str, Any] = {"score": score}
        if rng.random() < 0.5:
            fields["comment"] = rng.choice(_NPS_COMMENTS["low" if score < 7 else "high"])
        self.add(begin + rng.randint(HOUR, DAY), topics.FEEDBACK, "nps_response", **fields)

    def seats(self) -> None:
        acc, rng = self.acc, self.rng
        seats = acc.seats
        if acc.silent_from is not None:
            at = acc.silent_from - rng.randint(1, 4) * DAY
            self.add(at, topics.USAGE, "seats_changed", quantity=max(1, seats - rng.randint(1, 3)))
            return
        span = max(1, self.end - self.start)
        for at in sorted(self.start + rng.randint(0, span) for _ in range(rng.randint(0, 2))):
            seats += rng.randint(1, 3)
            self.add(at, topics.USAGE, "seats_changed", quantity=seats)


def _yyyymm(t: int) -> str:
    year, month, _ = calendar_day(t)
    return f"{year}{month:02d}"
