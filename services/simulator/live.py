"""Live events after the history: the still-active accounts keep using the product.

Live mode exists to load a running pipeline at a chosen rate with a realistic
mix, so it draws events rather than simulating days: an account is picked in
proportion to its size, then an event kind by its share of real traffic. The
accounts that went silent or were canceled during the history stay quiet.
Tickets keep a little state so that only opened tickets get updated or solved.
"""

from __future__ import annotations

import random
from itertools import accumulate
from typing import Any

from schemas import topics
from services.simulator.fragments import RawEvent, head, tail
from services.simulator.population import Account

#: Cumulative shares of the event kinds drawn in live mode.
_LOGIN, _FEATURE, _RECORDS, _TICKET, _SEATS = 0.36, 0.84, 0.96, 0.985, 0.99


def _is_active_after(acc: Account, end: int) -> bool:
    if acc.silent_from is not None and acc.silent_from <= end:
        return False
    return acc.cancel_at is None or acc.cancel_at > end


class LiveModel:
    """Draws live events for the accounts still active at the end of the history."""

    def __init__(self, accounts: list[Account], rng: random.Random, end: int) -> None:
        active = [a for a in accounts if _is_active_after(a, end)] or accounts
        self._accounts = active
        self._cum_weights = list(accumulate(a.seats * a.activity for a in active))
        self._rng = rng
        self._open_tickets: dict[str, list[tuple[str, str]]] = {}
        self._ticket_numbers: dict[str, int] = {}
        self._seats = {a.account_id: a.seats for a in active}

    def batch(self, now: int, count: int) -> list[RawEvent]:
        rng = self._rng
        rand = rng.random
        out: list[RawEvent] = []
        for acc in rng.choices(self._accounts, cum_weights=self._cum_weights, k=count):
            aid = acc.account_id
            topic = topics.USAGE
            fields: dict[str, Any] = {}
            r = rand()
            if r < _LOGIN:
                kind = "login"
                fields["user_id"] = f"{aid}-u{int(rand() * acc.seats) + 1}"
            elif r < _FEATURE:
                kind = "feature_used"
                fields["user_id"] = f"{aid}-u{int(rand() * acc.seats) + 1}"
                fields["feature"] = acc.features[int(rand() * len(acc.features))]
            elif r < _RECORDS:
                kind = "records_changed"
                fields["quantity"] = int(rand() * 50 * acc.seats) + 1
            elif r < _TICKET:
                topic = topics.TICKETS
                kind = self._ticket(acc, fields)
            elif r < _SEATS:
                self._seats[aid] = seats = self._seats.get(aid, acc.seats) + 1
                kind = "seats_changed"
                fields["quantity"] = seats
            else:
                topic = topics.FEEDBACK
                nps = rand() < 0.5
                kind = "nps_response" if nps else "csat_response"
                fields["score"] = rng.choice((6, 8, 9, 10)) if nps else rng.choice((3, 4, 5, 5))
            out.append((now, topic, aid.encode(), head(aid, kind), tail(fields)))
        return out

    def _ticket(self, acc: Account, fields: dict[str, Any]) -> str:
        """Open a ticket, or move an open one along (update, then solve); returns the type."""
        rng = self._rng
        open_tickets = self._open_tickets.setdefault(acc.account_id, [])
        csat = None
        if open_tickets and rng.random() < 0.6:
            ticket_id, priority = open_tickets[0]
            if rng.random() < 0.5:
                kind = "ticket_updated"
            else:
                open_tickets.pop(0)
                kind = "ticket_solved"
                csat = rng.choice((3, 4, 5, 5))
        else:
            number = self._ticket_numbers.get(acc.account_id, 1000) + 1
            self._ticket_numbers[acc.account_id] = number
            ticket_id = f"T-{acc.index:05d}-{number}"
            priority = rng.choice(("low", "normal", "normal", "high"))
            open_tickets.append((ticket_id, priority))
            kind = "ticket_opened"
        fields["ticket_id"] = ticket_id
        fields["priority"] = priority
        if csat is not None:
            fields["csat"] = csat
        return kind
