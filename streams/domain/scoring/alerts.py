"""Risk-alert decisions: which alerts a score change (or silence) raises.

One alert per episode: every type has an explicit rule (in the model file,
``alerts`` and ``lifecycle``) for when its episode starts and ends, so nobody
is paged twice for the same thing:

- ``health_below_threshold`` (hysteresis) fires when the score is under the
  segment's threshold while *armed*, then disarms; ``health_recovered`` fires
  when the score is back at the re-arm level, and re-arms. The gap (60 vs 65)
  is the hysteresis: an account wobbling at 58-62 pages once.
- ``sudden_drop`` (hysteresis) fires on a real fall - below the score before
  it, and ``sudden_drop_points`` below the highest daily score of the last
  ``sudden_drop_days`` days - once per episode: the episode ends only when the
  score has held at ``sudden_drop_rearm`` for ``sudden_drop_rearm_days`` (a
  red flag that comes and goes daily, lifting the score over the re-arm level
  for a day each time, is one episode, not a page a day). It never fires for
  an account already alerted at risk in an earlier step (disarmed): that
  alert said it.
- ``inactivity`` (dwell) fires when an account that has been active has had
  no usage for ``inactivity_days``, once per spell (a spell is identified by
  its last activity time; any new usage starts a new one).
- ``usage_decline`` (hysteresis) fires once a day's check finds the account's
  active users per day over the last four weeks at ``usage_decline_ratio``
  or less of its own twelve-week pace (``dimensions.users_pace``) while it
  is still in use (some usage in the last ``inactivity_days``: a stop is
  ``inactivity``'s); the episode ends when the pace is back at
  ``usage_decline_rearm``. A team thinning out is the disengagement CSMs
  are asked to catch before it ends in silence; the score, an average,
  moves only a few points by then. Like ``sudden_drop`` it never fires for
  an account already alerted at risk, nor while it is onboarding or settling.
- ``onboarding_stalled`` (once) fires for a new account with no usage for
  ``stalled_quiet_days`` at any check from when it is ``stalled_after_days``
  old until its onboarding ends (one check a day, on complete days). While an
  account is onboarding (younger than ``onboarding_days``) it is the only
  risk alert: the other rules judge windows a young account has not lived.
  ``sudden_drop`` also waits while the account's usage *data* is that young
  (an old customer first seen by a new deployment or a replay): its score
  jumps as data sources appear, which is not a fall.
- A churned account raises nothing (the caller does not ask).

Ids are ``sha256(account, type, cause time)``: a re-run over the same input
gives the same ids, so downstream de-duplication works. The cause time of an
inactivity alert is ``last activity + inactivity_days`` - the moment the rule
became true - so it does not depend on when a clock tick happened to run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Literal, TypeAlias

from streams.domain.frozen import by_fields, fast_init
from streams.domain.scoring.alert_rules import AlertPolicy
from streams.domain.scoring.parts import AlertState, Band
from streams.domain.scoring.series import peaks_after, record_peak
from streams.domain.scoring.state import Profile
from streams.domain.scoring.windows import DAY_SECONDS, day_index

AlertType: TypeAlias = Literal[
    "health_below_threshold",
    "health_recovered",
    "sudden_drop",
    "inactivity",
    "onboarding_stalled",
    "usage_decline",
]


@fast_init
@dataclass(frozen=True, slots=True)
class AlertDecision:
    """A risk alert to emit; ``time`` is the event time of its cause."""

    id: str
    account_id: str
    type: AlertType
    time: datetime
    score: float | None
    previous_score: float | None
    band: Band | None
    reasons: tuple[str, ...]
    owner: str | None
    segment: str | None
    account_name: str | None
    arr_cents: int | None
    model_version: str | None
    peak_score: float | None = None
    """sudden_drop: the highest daily score it fell from."""
    inactive_days: int | None = None
    """inactivity: the policy's day count that was reached."""


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class AlertInput:
    """What one step knows when deciding alerts. Scores are in tenths; ``rescored``
    says whether ``score_t`` was computed by this step (threshold and drop rules
    only look at fresh scores)."""

    account_id: str
    profile: Profile | None
    score_t: int | None
    previous_t: int | None
    band: Band | None
    rescored: bool
    last_activity_s: int | None
    now_s: int
    cause_s: int
    model_version: str | None
    onboarding: bool = False
    """The account is younger than the model's ``onboarding_days``."""
    settling: bool = False
    """Its usage data is younger than that: no ``sudden_drop`` yet (its score
    still jumps as data sources appear)."""
    stalled_s: int = -1
    """The onboarding check: -1 not due (or done), 0 due and passed, else the
    cause time of an ``onboarding_stalled`` alert."""
    pace: float | None = None
    """The day's ``usage_decline`` check: active users per day against the
    account's own baseline, on complete days (None: no check this step)."""
    in_use: bool = False
    """Some usage in the ``inactivity_days`` complete days before today."""

    def __init__(
        self,
        account_id: str,
        profile: Profile | None,
        score_t: int | None,
        previous_t: int | None,
        band: Band | None,
        rescored: bool,
        last_activity_s: int | None,
        now_s: int,
        cause_s: int,
        model_version: str | None,
        onboarding: bool = False,
        settling: bool = False,
        stalled_s: int = -1,
        pace: float | None = None,
        in_use: bool = False,
    ) -> None:
        self.account_id = account_id
        self.profile = profile
        self.score_t = score_t
        self.previous_t = previous_t
        self.band = band
        self.rescored = rescored
        self.last_activity_s = last_activity_s
        self.now_s = now_s
        self.cause_s = cause_s
        self.model_version = model_version
        self.onboarding = onboarding
        self.settling = settling
        self.stalled_s = stalled_s
        self.pace = pace
        self.in_use = in_use

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


def next_alert_state(
    alerts: AlertState,
    step: AlertInput,
    policy: AlertPolicy,
    reasons: Callable[[], tuple[str, ...]],
) -> tuple[AlertState, tuple[AlertDecision, ...]]:
    """Apply the rules; ``reasons`` is called only if an alert fires."""
    out: list[AlertDecision] = []
    checked = alerts.onboarding_checked
    if not checked and step.stalled_s >= 0:
        if step.stalled_s > 0:
            out.append(_decision(step, "onboarding_stalled", step.stalled_s, reasons))
        checked = True
    spell = alerts.inactivity_spell_s
    last = step.last_activity_s
    if last is not None and spell != last:
        due = last + policy.inactivity_days * DAY_SECONDS
        if step.now_s >= due:
            if not step.onboarding:  # a young account's silence is onboarding_stalled's
                days = policy.inactivity_days
                out.append(_decision(step, "inactivity", due, reasons, inactive_days=days))
            spell = last
    armed, history = alerts.armed, alerts.history
    drop = (alerts.sudden_drop_s, alerts.sudden_drop_clear_s)
    if step.rescored and step.score_t is not None:
        score_t = step.score_t
        now_day = day_index(step.now_s)
        history = peaks_after(history, now_day - policy.sudden_drop_days)
        if not step.onboarding:
            drop = _drop_episode(step, policy, drop)
            armed, drop_s = _score_rules(step, policy, history, armed, drop[0], out, reasons)
            drop = (drop_s, drop[1] if drop_s is not None else None)
        history = record_peak(history, now_day, score_t)
    decline = alerts.usage_decline_s
    if step.pace is not None:
        decline = _decline_episode(step, policy, armed, decline, out, reasons)
    if (
        not out
        and history is alerts.history
        and checked == alerts.onboarding_checked
        and drop == (alerts.sudden_drop_s, alerts.sudden_drop_clear_s)
        and decline == alerts.usage_decline_s
    ):
        return alerts, ()
    state = AlertState(armed, spell, drop[0], history, checked, drop[1], decline)
    return state, tuple(out)


def _decline_episode(
    step: AlertInput,
    policy: AlertPolicy,
    armed: bool,
    decline_s: int | None,
    out: list[AlertDecision],
    reasons: Callable[[], tuple[str, ...]],
) -> int | None:
    """The open usage-decline episode after the day's check (its cause time,
    None when armed). The cause is the day's midnight: the check reads only
    complete days, so whichever step of the day runs it decides the same."""
    pace = step.pace
    assert pace is not None
    if decline_s is not None:
        return None if pace >= policy.usage_decline_rearm else decline_s
    if (
        policy.usage_decline_ratio > 0
        and pace <= policy.usage_decline_ratio
        and armed
        and step.in_use
        and not step.onboarding
        and not step.settling
    ):
        cause = day_index(step.now_s) * DAY_SECONDS
        out.append(_decision(step, "usage_decline", cause, reasons))
        return cause
    return None


def _drop_episode(
    step: AlertInput, policy: AlertPolicy, drop: tuple[int | None, int | None]
) -> tuple[int | None, int | None]:
    """The open sudden-drop episode ``(cause time, at re-arm level since)`` after
    this score: it ends once the score has held at ``sudden_drop_rearm`` for
    ``sudden_drop_rearm_days``. Every fresh score passes here, so a clear time
    that survives to a later step means the score stayed up in between."""
    drop_s, clear_s = drop
    if drop_s is None:
        return drop
    held = (
        clear_s is not None
        and step.cause_s - clear_s >= policy.sudden_drop_rearm_days * DAY_SECONDS
    )
    if held:
        return None, None
    assert step.score_t is not None
    if step.score_t < policy.sudden_drop_rearm * 10:
        return drop_s, None
    return drop_s, step.cause_s if clear_s is None else clear_s


def _score_rules(
    step: AlertInput,
    policy: AlertPolicy,
    history: tuple[tuple[int, int], ...],
    armed: bool,
    drop_s: int | None,
    out: list[AlertDecision],
    reasons: Callable[[], tuple[str, ...]],
) -> tuple[bool, int | None]:
    """The threshold hysteresis and the sudden-drop episode; returns (armed, drop_s)."""
    score_t, cause, previous = step.score_t, step.cause_s, step.previous_t
    assert score_t is not None
    threshold, rearm = policy.thresholds(step.profile.segment if step.profile else None)
    crossing = armed and score_t < threshold * 10
    peak = max(map(_second, history)) if history else None
    # A drop that still leaves the account healthy is noise, not a risk:
    # early-life scores settle by 20+ points as data sources appear.
    if (
        drop_s is None
        and not step.settling
        and armed
        and peak is not None
        and previous is not None
        and score_t < previous
        and step.band != "healthy"
        and peak - score_t >= policy.sudden_drop_points * 10
    ):
        out.append(_decision(step, "sudden_drop", cause, reasons, peak_score=peak / 10))
        drop_s = cause
    if crossing:
        out.append(_decision(step, "health_below_threshold", cause, reasons))
        armed = False
    elif not armed and score_t >= rearm * 10:
        out.append(_decision(step, "health_recovered", cause, reasons))
        armed = True
    return armed, drop_s


_second = itemgetter(1)


def alert_id(account_id: str, kind: str, cause_s: int) -> str:
    """Deterministic id from the cause (128 bits of SHA-256, hex)."""
    return hashlib.sha256(f"{account_id}\x1f{kind}\x1f{cause_s}".encode()).hexdigest()[:32]


def _decision(
    step: AlertInput,
    kind: AlertType,
    cause_s: int,
    reasons: Callable[[], tuple[str, ...]],
    *,
    peak_score: float | None = None,
    inactive_days: int | None = None,
) -> AlertDecision:
    profile = step.profile
    return AlertDecision(
        id=alert_id(step.account_id, kind, cause_s),
        account_id=step.account_id,
        type=kind,
        time=datetime.fromtimestamp(cause_s, UTC),
        score=None if step.score_t is None else step.score_t / 10,
        previous_score=None if step.previous_t is None else step.previous_t / 10,
        band=step.band,
        reasons=reasons(),
        owner=profile.owner if profile else None,
        segment=profile.segment if profile else None,
        account_name=profile.name if profile else None,
        arr_cents=profile.arr_cents if profile else None,
        model_version=step.model_version,
        peak_score=peak_score,
        inactive_days=inactive_days,
    )
