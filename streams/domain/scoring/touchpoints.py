"""Lifecycle touchpoints: the moments the customer-success playbook says to reach out.

A touchpoint is a task for the account's owner, not a risk alert: the
onboarding check-in a week after sign-up, the 30-day, 90-day ("the 90-day
health check") and one-year milestones, the renewal coming in 90 days (a
conversation, not the billing reminder), an expansion signal (seats grown past
the model's threshold since we first knew them) and a referral ask (a
promoter NPS answer from a healthy account).

Each fires once per account (the renewal once per renewal date), at a
deterministic cause time - the scheduled day's start, or the time of the
event that made it true - so a replay gives the same ids. A churned account
gets none (the step does not ask), and a scheduled one first found due more
than ``late_days`` late is skipped: the moment has passed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.domain.frozen import fast_init
from streams.domain.scoring.state import Profile, ScoredState
from streams.domain.scoring.touchpoint_rules import BIT, TouchpointPolicy, Touchpoints
from streams.domain.scoring.windows import DAY_SECONDS


@fast_init
@dataclass(frozen=True, slots=True)
class TouchpointDecision:
    """A touchpoint to publish on ``cs.touchpoints.v1``."""

    id: str
    account_id: str
    kind: str
    time: datetime
    summary: str
    score: float | None
    profile: Profile | None
    renewal_s: int | None


_SUMMARIES = {
    "onboarding_checkin": "onboarding check-in: a week since sign-up, see how the setup goes",
    "milestone_30d": "30 days as a customer: review first results",
    "milestone_90d": "90-day health check: review value delivered against their goals",
    "milestone_1y": "one year as a customer: anniversary review and plans for year two",
}


def due_touchpoints(
    state: ScoredState,
    tp: Touchpoints,
    policy: TouchpointPolicy,
    born_day: int | None,
    now_day: int,
    cause_s: int,
    score_t: int | None,
) -> tuple[Touchpoints, tuple[TouchpointDecision, ...]]:
    """The touchpoints due now, and the memory that records them."""
    sent, renewal_sent = tp.sent, tp.renewal_sent_s
    out: list[TouchpointDecision] = []
    if born_day is not None:
        for kind, days in policy.schedule:
            bit = BIT[kind]
            if sent & bit:
                continue
            day = born_day + days
            if now_day < day:
                break
            sent |= bit
            if now_day <= day + policy.late_days:
                out.append(_decision(state, kind, day * DAY_SECONDS, _SUMMARIES[kind], score_t))
    renewal = tp.renewal_s
    if renewal is not None and renewal_sent != renewal:
        renewal_day = renewal // DAY_SECONDS
        if renewal_day - policy.renewal_notice_days <= now_day < renewal_day:
            days = renewal_day - now_day
            text = f"renewal in {days} days: plan the renewal conversation"
            out.append(
                _decision(state, "renewal_in_90d", now_day * DAY_SECONDS, text, score_t, renewal)
            )
            renewal_sent = renewal
    seats = state.usage.seats
    base = tp.seats_base
    if (
        not sent & BIT["expansion_signal"]
        and seats is not None
        and base
        and seats >= base * (1 + policy.expansion_seat_growth)
    ):
        sent |= BIT["expansion_signal"]
        text = f"seats grew from {base} to {seats}: talk about the next plan"
        out.append(_decision(state, "expansion_signal", cause_s, text, score_t))
    nps = state.nps
    if (
        not sent & BIT["referral_ask"]
        and nps is not None
        and nps[0] >= policy.referral_min_nps
        and score_t is not None
        and score_t >= policy.referral_min_score * 10
    ):
        sent |= BIT["referral_ask"]
        text = f"promoter (NPS {nps[0]}) on a healthy account: ask for a referral"
        out.append(_decision(state, "referral_ask", cause_s, text, score_t))
    if sent == tp.sent and renewal_sent == tp.renewal_sent_s:
        return tp, ()
    return Touchpoints(sent, base, renewal, renewal_sent), tuple(out)


def touchpoint_id(account_id: str, kind: str, cause_s: int) -> str:
    key = f"{account_id}\x1ftouchpoint\x1f{kind}\x1f{cause_s}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _decision(
    state: ScoredState,
    kind: str,
    cause_s: int,
    summary: str,
    score_t: int | None,
    renewal_s: int | None = None,
) -> TouchpointDecision:
    return TouchpointDecision(
        id=touchpoint_id(state.account_id, kind, cause_s),
        account_id=state.account_id,
        kind=kind,
        time=datetime.fromtimestamp(cause_s, UTC),
        summary=summary,
        score=None if score_t is None else score_t / 10,
        profile=state.profile,
        renewal_s=renewal_s,
    )
