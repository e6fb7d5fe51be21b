"""Churn ground truth: when (and why) a simulated account leaves, joins or goes quiet.

The backtest (``healthscore backtest``) takes its outcomes from the
``subscription_canceled`` events in the data, so the simulation has to contain
the kinds of churn a real base has, each with its own lead signal (or none):

- *disengaged*: usage fades over weeks, goes silent, then the customer cancels
  with a reason ("no longer needed"); the classic, predictable churn;
- *support-driven*: a ticket storm with low CSAT, then a cancellation;
- *abrupt*: a healthy-looking account cancels (budget cut, acquisition, a
  competitor); sometimes a detractor NPS answer was the only warning;
- *never onboarded*: a new account that logs in a few times in its first week
  and never again, then closes;
- *involuntary*: a hard-declined card that dunning cannot recover
  (``population.HARD_DECLINE``, canceled by the billing system).

And the accounts that must *not* look like churners: new accounts ramping up
through onboarding, and seasonal ones with a quiet month (schools in summer,
retail after the holidays).

Timing: in a history of ``LONG_HISTORY`` or more, churn moments are spread over
everything after a ``WARM_UP`` (so a backtest sees churn in every month and
every churner has history before it); in a short history they fall near its
end, as the other personas do, so a 30-day demo still shows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from services.simulator.clock import DAY, HOUR

DISENGAGING = "disengaging"
TICKET_STORM = "ticket_storm"
ABRUPT_CHURN = "abrupt_churn"
NEVER_ONBOARDS = "never_onboards"
NEW_ACCOUNT = "new_account"
SEASONAL = "seasonal"
HARD_DECLINE = "hard_decline"

LONG_HISTORY = 120 * DAY
WARM_UP = 60 * DAY
#: A billing system cancels a hard-declined subscription this long after the failure.
HARD_DECLINE_CANCEL_AFTER = 14 * DAY
#: Share of disengaged accounts that also cancel (the rest stay silent, still paying).
DISENGAGED_CANCEL_SHARE = 0.75
#: Share of ticket storms that end in a cancellation.
STORM_CANCEL_SHARE = 0.5

DISENGAGED_REASONS = ("no_longer_needed", "low_usage", "no_longer_needed", "switched_tool")
SUPPORT_REASONS = ("poor_support", "product_issues", "missing_features")
ABRUPT_REASONS = ("budget_cut", "switched_competitor", "company_acquired", "too_expensive")
NEVER_ONBOARDED_REASON = "never_adopted"
INVOLUNTARY_REASON = "payment_failed"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The lifecycle moments of one account (epoch seconds; None = does not happen).

    ``silent_from``: all usage stops (a fade precedes it for disengaging
    accounts); ``cancel_at``/``cancel_reason``: the ``subscription_canceled``
    event; ``created_at``: set for accounts created inside the history;
    ``lull``: a seasonal quiet spell ``[from, until)``; ``storm_at``: the ticket storm.
    """

    created_at: int | None = None
    silent_from: int | None = None
    storm_at: int | None = None
    cancel_at: int | None = None
    cancel_reason: str | None = None
    lull: tuple[int, int] | None = None
    warning_nps_at: int | None = None


def moment(rng: random.Random, start: int, end: int, lo: float, hi: float) -> int:
    """A time for a persona's turning point: uniform after the warm-up in a long
    history, else at ``[lo, hi)`` of the way through a short one."""
    span = end - start
    if span >= LONG_HISTORY:
        return start + WARM_UP + int(rng.uniform(0.0, 1.0) * (span - WARM_UP - 10 * DAY))
    return start + int(span * rng.uniform(lo, hi))


def plan_lifecycle(
    rng: random.Random, personas: set[str], start: int, end: int, decline_at: int | None
) -> Lifecycle:
    """Draw the lifecycle moments the personas imply."""
    silent_from = storm_at = cancel_at = created_at = warning = None
    reason: str | None = None
    lull = None
    if DISENGAGING in personas:
        silent_from = moment(rng, start, end, 0.55, 0.7) // DAY * DAY
        if end - start >= LONG_HISTORY and rng.random() < DISENGAGED_CANCEL_SHARE:
            cancel_at = silent_from + rng.randint(10, 50) * DAY + rng.randint(8, 18) * HOUR
            reason = rng.choice(DISENGAGED_REASONS)
    if TICKET_STORM in personas:
        storm_at = moment(rng, start, end, 0.6, 0.8)
        if end - start >= LONG_HISTORY and rng.random() < STORM_CANCEL_SHARE:
            cancel_at = storm_at + rng.randint(15, 50) * DAY + rng.randint(8, 18) * HOUR
            reason = rng.choice(SUPPORT_REASONS)
    if ABRUPT_CHURN in personas:
        cancel_at = moment(rng, start, end, 0.75, 0.95) // DAY * DAY + rng.randint(8, 18) * HOUR
        reason = rng.choice(ABRUPT_REASONS)
        if rng.random() < 0.4:
            warning = cancel_at - rng.randint(20, 45) * DAY
    if NEVER_ONBOARDS in personas:
        created_at = _created(rng, start, end, 0.3, 0.6)
        silent_from = created_at + rng.randint(3, 8) * DAY
        cancel_at = created_at + rng.randint(30, 60) * DAY + rng.randint(1, 8) * HOUR
        reason = NEVER_ONBOARDED_REASON
    if NEW_ACCOUNT in personas:
        created_at = _created(rng, start, end, 0.2, 0.8)
    if SEASONAL in personas:
        lull_from = moment(rng, start, end, 0.3, 0.5) // DAY * DAY
        lull = (lull_from, lull_from + rng.randint(21, 40) * DAY)
    if HARD_DECLINE in personas and decline_at is not None:
        cancel_at, reason = decline_at + HARD_DECLINE_CANCEL_AFTER, INVOLUNTARY_REASON
    if cancel_at is not None and cancel_at >= end:
        cancel_at, reason = None, None
    return Lifecycle(created_at, silent_from, storm_at, cancel_at, reason, lull, warning)


def _created(rng: random.Random, start: int, end: int, lo: float, hi: float) -> int:
    span = end - start
    if span >= LONG_HISTORY:
        at = start + int(rng.uniform(0.0, 1.0) * (span - 45 * DAY))
    else:
        at = start + int(span * rng.uniform(lo, hi))
    return at // DAY * DAY + rng.randint(8, 18) * HOUR
