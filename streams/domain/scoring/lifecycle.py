"""Lifecycle: where an account is in its life, and the moments it changes stage.

The stages a CSM works with are *onboarding* (young: judged by its age, paged
only if it stalls), *active* and *churned* (it cancelled: no more scoring
alerts, out of the at-risk list). Churn and reactivation are output events
(``cs.lifecycle.v1``), because churn analytics and the backtest need the
outcome itself, with its reason, kind and the ARR it took away.

- ``subscription_canceled`` churns the account. Its kind is *involuntary*
  when the reason names a payment failure or a failed invoice was still open
  (dunning ran out), else *voluntary* (the customer chose to leave).
- A later sign of life - a profile upsert, a successful payment, product
  usage - reactivates it. Tickets and survey answers do not: a churned
  customer answering an exit survey has not come back.

Ids are ``sha256(account, change, cause time)`` like alerts, so a replay
gives the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeAlias

from streams.domain.frozen import fast_init
from streams.domain.scoring.state import Churn, Profile

Stage: TypeAlias = Literal["onboarding", "active", "churned"]
ChurnKind: TypeAlias = Literal["voluntary", "involuntary"]

INVOLUNTARY_REASONS = frozenset(
    {
        "payment_failed",
        "payment_failure",
        "failed_payment",
        "nonpayment",
        "non_payment",
        "unpaid",
        "dunning",
        "dunning_exhausted",
        "card_declined",
    }
)


@fast_init
@dataclass(frozen=True, slots=True)
class LifecycleDecision:
    """An ``account.churned`` / ``account.reactivated`` output."""

    id: str
    account_id: str
    change: Literal["churned", "reactivated"]
    time: datetime
    reason: str | None
    kind: ChurnKind | None
    arr_cents: int | None
    last_score: float | None
    profile: Profile | None


def churn_kind(reason: str | None, open_failures: int) -> ChurnKind:
    """Involuntary when the reason says payment or an unpaid invoice was open."""
    if open_failures or (reason is not None and reason.strip().lower() in INVOLUNTARY_REASONS):
        return "involuntary"
    return "voluntary"


def lifecycle_id(account_id: str, change: str, cause_s: int) -> str:
    return hashlib.sha256(f"{account_id}\x1f{change}\x1f{cause_s}".encode()).hexdigest()[:32]


def decision(
    account_id: str,
    change: Literal["churned", "reactivated"],
    churn: Churn,
    cause_s: int,
    profile: Profile | None,
) -> LifecycleDecision:
    return LifecycleDecision(
        id=lifecycle_id(account_id, change, cause_s),
        account_id=account_id,
        change=change,
        time=datetime.fromtimestamp(cause_s, UTC),
        reason=churn.reason,
        kind=churn.kind if change == "churned" else None,  # type: ignore[arg-type]
        arr_cents=profile.arr_cents if profile is not None else None,
        last_score=None if churn.score_t < 0 else churn.score_t / 10,
        profile=profile,
    )


def stage(churn: Churn | None, born_day: int | None, now_day: int, onboarding_days: int) -> Stage:
    """The account's stage on ``now_day``."""
    if churn is not None:
        return "churned"
    if born_day is not None and now_day - born_day < onboarding_days:
        return "onboarding"
    return "active"
