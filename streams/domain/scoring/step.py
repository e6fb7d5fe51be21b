"""One scoring step on an account's working draft: apply an event, settle.

``apply_new`` applies an event unless its id was applied recently;
``settle`` brings the draft to a clock time and says what changed. The
domain's entry point (``streams.domain.account``) takes one of each per
event, and a ``settle`` alone when time passes without events.

When to emit: rescoring is skipped when no scored input changed and the day
is the same (the second login of the day changes nothing the score reads);
the score only depends on day-granular windows, so this is exact, not a
cache. A new score is emitted only when it differs from the last one; the
alert rules run on every settle (hysteresis: one alert per crossing).

Time is event time: ``now_s`` is the partition clock the caller passes, and
the account's clock never runs backwards (``max(now, last event, last
as_of)``). Score-driven outputs carry the time of the event that caused
them, or the start of the day for a settle without an event, so their ids do
not depend on when a tick ran.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from streams.domain.events import DomainEvent
from streams.domain.frozen import by_fields
from streams.domain.scoring.alerts import AlertDecision, AlertInput, next_alert_state
from streams.domain.scoring.apply import StateDraft, id_digest
from streams.domain.scoring.health import HealthScore
from streams.domain.scoring.masks import DIM_WEIGHTS
from streams.domain.scoring.model import BaselineRatio, ScoringModel
from streams.domain.scoring.parts import ScoreMemo
from streams.domain.scoring.reasons import details_of, explain
from streams.domain.scoring.rescore import cached_parts, cached_raw, rescore, score_vector
from streams.domain.scoring.score import (
    ScoreParts,
    build_score,
    memo_of,
    same_score,
    score_parts,
)
from streams.domain.scoring.series import prune, prune_features
from streams.domain.scoring.state import AccountState, ScoredState
from streams.domain.scoring.touchpoints import due_touchpoints
from streams.domain.scoring.windows import DAY_SECONDS, count_days, day_index, horizon_floor


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class HealthChange:
    """A new score to publish on ``cs.health.v1`` (only when something moved)."""

    id: str
    account_id: str
    time: datetime
    health: HealthScore
    reasons: tuple[str, ...]
    owner: str | None
    segment: str | None
    account_name: str | None
    arr_cents: int | None
    details: tuple[str, ...] = ()
    """One plain-words line per dimension of ``health.dimensions``, in order."""

    def __init__(
        self,
        id: str,
        account_id: str,
        time: datetime,
        health: HealthScore,
        reasons: tuple[str, ...],
        owner: str | None,
        segment: str | None,
        account_name: str | None,
        arr_cents: int | None,
        details: tuple[str, ...] = (),
    ) -> None:
        self.id = id
        self.account_id = account_id
        self.time = time
        self.health = health
        self.reasons = reasons
        self.owner = owner
        self.segment = segment
        self.account_name = account_name
        self.arr_cents = arr_cents
        self.details = details

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


def new_draft(state: AccountState, model: ScoringModel) -> StateDraft:
    """A working draft of ``state`` for steps under ``model``."""
    feature_dim = model.dimension("feature_depth")
    return StateDraft(state, feature_window=feature_dim.window_days if feature_dim else 90)


def apply_new(draft: StateDraft, event: DomainEvent, at_s: int) -> int | None:
    """Apply ``event`` unless its id was applied recently: None for a duplicate,
    else the mask of scored dimensions it changed."""
    digest = id_digest(event.id)
    if draft.is_duplicate(digest):
        return None
    mask = draft.apply(event, at_s)
    draft.remember(digest)
    return mask


def settle(
    draft: StateDraft, model: ScoringModel, now_s: int, mask: int, cause_s: int | None
) -> tuple[HealthChange | None, tuple[AlertDecision, ...]]:
    """Slide the windows to ``now_s``, rescore what ``mask`` (or a new day)
    may have moved, decide alerts. Updates ``draft`` in place."""
    now_s = max(now_s, draft.watermark_s or 0, draft.as_of_s or 0)
    now_day = now_s // DAY_SECONDS
    memo = draft.last_score
    as_of = draft.as_of_s
    if as_of is None or as_of // DAY_SECONDS != now_day or mask:
        _prune(draft, now_day)
    draft.as_of_s = now_s
    if draft.churn is not None:
        # Churned: no scores, no alerts until it comes back. Inputs applied
        # meanwhile are not measured, so the dimension cache starts afresh then.
        draft.dim_day = None
        return None, ()
    stale = memo is None or memo.day != now_day or memo.model_version != model.version
    if not (mask or stale):
        if _inactivity_not_due(draft, model, now_s):
            return None, ()
        return _decide(draft, model, now_s, now_day, None, memo, stale, cause_s)
    rescore(draft, model, now_day, mask)
    if (
        memo is not None
        and not mask & DIM_WEIGHTS
        and memo.model_version == model.version
        and score_vector(draft, model) == memo.dim_scores_t
    ):
        # The same dimension scores and weights, so the same score.
        if not stale:
            if _inactivity_not_due(draft, model, now_s):
                return None, ()  # nothing to say
            return _decide(draft, model, now_s, now_day, None, memo, stale, cause_s)
        # A new day (a midnight tick of an unchanged account): only the memo's
        # day moves; the alert rules still run, parts are built only if one fires.
        same = ScoreMemo(
            memo.score_t, memo.band, now_day, memo.model_version,
            memo.dim_scores_t, memo.contributions_t,
        )  # fmt: skip
        return _decide(draft, model, now_s, now_day, None, memo, stale, cause_s, same)
    parts = cached_parts(draft, model)
    return _decide(draft, model, now_s, now_day, parts, memo, stale, cause_s)


def _decide(
    draft: StateDraft,
    model: ScoringModel,
    now_s: int,
    now_day: int,
    parts: ScoreParts | None,
    memo: ScoreMemo | None,
    stale: bool,
    cause_s: int | None,
    same: ScoreMemo | None = None,
) -> tuple[HealthChange | None, tuple[AlertDecision, ...]]:
    """Remember the new score, run the alert rules, dress what is emitted.
    ``same``: the day's score is known to equal ``memo`` (no parts needed)."""
    new_memo: ScoreMemo | None
    if same is not None:
        new_memo, changed = same, False
    else:
        new_memo = memo if parts is None else memo_of(parts, model, now_day)
        changed = new_memo is not None and (memo is None or not same_score(memo, new_memo))
    draft.last_score = new_memo
    explained = _Explainer(draft, model, now_s, parts, memo)
    onboarding, settling, stalled_s = _onboarding(draft, model, now_day)
    pace, in_use = _pace(draft, model, now_day) if stale else (None, False)
    step = AlertInput(
        account_id=draft.account_id,
        profile=draft.profile,
        score_t=new_memo.score_t if new_memo else None,
        previous_t=memo.score_t if memo else None,
        band=new_memo.band if new_memo else None,
        rescored=same is not None or (parts is not None and (changed or stale)),
        last_activity_s=draft.last_activity_s,
        now_s=now_s,
        cause_s=cause_s if cause_s is not None else now_day * DAY_SECONDS,
        model_version=model.version,
        onboarding=onboarding,
        settling=settling,
        stalled_s=stalled_s,
        pace=pace,
        in_use=in_use,
    )
    draft.alerts, alerts = next_alert_state(draft.alerts, step, model.alerts, explained.reasons)
    draft.touchpoints, touchpoints = due_touchpoints(
        draft, draft.touchpoints, model.touchpoints, born_day(draft), now_day, step.cause_s,
        step.score_t,
    )  # fmt: skip
    if touchpoints:
        draft.lifecycle_out = (*draft.lifecycle_out, *touchpoints)
    health = None
    score = explained.score() if changed else None
    if score is not None:
        details = details_of(draft, score, model)
        health = _health_change(draft, score, step.cause_s, explained.reasons(), details)
    return health, alerts


#: How late the onboarding check may still run: a first look at an account
#: long past its first weeks (a restored or replayed old account) says nothing.
ONBOARDING_CHECK_GRACE_DAYS = 7


def born_day(state: ScoredState) -> int | None:
    """The account's first day: sign-up (profile ``created_at``), else its first usage."""
    profile = state.profile
    if profile is not None and profile.created_s is not None:
        return profile.created_s // DAY_SECONDS
    return state.usage.first_day


def _onboarding(draft: StateDraft, model: ScoringModel, now_day: int) -> tuple[bool, bool, int]:
    """(is onboarding, is settling, the stalled check for ``AlertInput.stalled_s``).

    Settling: the usage data is younger than ``onboarding_days`` (an old
    customer first seen by a new deployment or a replay): its score still
    jumps as data sources appear, so a jump is not a sudden drop yet."""
    policy = model.lifecycle
    first = draft.usage.first_day
    settling = first is not None and now_day - first < policy.onboarding_days
    born = born_day(draft)
    if born is None:
        return False, settling, -1
    onboarding = now_day - born < policy.onboarding_days
    due = born + policy.stalled_after_days
    if draft.alerts.onboarding_checked or now_day < due:
        return onboarding, settling, -1
    late = now_day > due + ONBOARDING_CHECK_GRACE_DAYS
    if late and not onboarding:
        return onboarding, settling, 0
    # Checked each day until onboarding ends: a quiet week at any point of
    # it is a stalled sign-up, not only the week before ``due``.
    quiet_from = now_day - policy.stalled_quiet_days
    if count_days(draft.usage.active_users, quiet_from, now_day) > 0:
        return onboarding, settling, -1 if onboarding else 0
    # Past the grace, only a silence that follows seen usage counts: a
    # deployment that has just met an older sign-up has seen no usage yet.
    if late and (first is None or first >= quiet_from):
        return onboarding, settling, -1
    return onboarding, settling, now_day * DAY_SECONDS


def _pace(draft: StateDraft, model: ScoringModel, now_day: int) -> tuple[float | None, bool]:
    """The day's ``usage_decline`` check (see ``AlertInput.pace``): run on the
    first step of a day, once per account-day whatever the event rate. The
    pace is ``activity_trend``'s raw value, which that step's ``rescore`` has
    just measured (``dimensions.users_pace``, on complete days). None when
    the model measures no users' pace (``activity_trend`` not a baseline
    ratio) or the account has no usage feed."""
    dim = model.dimension("activity_trend")
    if dim is None or not isinstance(dim.normaliser, BaselineRatio):
        return None, False
    pace = cached_raw(draft, model, "activity_trend", now_day)
    if pace is None:
        return None, False
    quiet_from = now_day - model.alerts.inactivity_days
    return pace, count_days(draft.usage.active_users, quiet_from, now_day) > 0


def _inactivity_not_due(draft: StateDraft, model: ScoringModel, now_s: int) -> bool:
    last = draft.last_activity_s
    return (
        last is None
        or draft.alerts.inactivity_spell_s == last
        or now_s < last + model.alerts.inactivity_days * DAY_SECONDS
    )


def _health_change(
    state: ScoredState,
    score: HealthScore,
    cause_s: int,
    reasons: tuple[str, ...],
    details: tuple[str, ...],
) -> HealthChange:
    # One f-string per health change: no tuple and no ``str`` call per part.
    key = (
        f"{state.account_id}\x1fhealth\x1f{cause_s}"
        f"\x1f{score.score_tenths}\x1f{score.model_version}"
    )
    profile = state.profile
    return HealthChange(
        id=hashlib.sha256(key.encode()).hexdigest()[:32],
        account_id=state.account_id,
        time=datetime.fromtimestamp(cause_s, UTC),
        health=score,
        reasons=reasons,
        owner=profile.owner if profile else None,
        segment=profile.segment if profile else None,
        account_name=profile.name if profile else None,
        arr_cents=profile.arr_cents if profile else None,
        details=details,
    )


class _Explainer:
    """Builds the output score and the reasons at most once per step, and only
    when something is emitted (most steps emit nothing)."""

    __slots__ = ("_model", "_now_s", "_parts", "_previous", "_reasons", "_score", "_state")

    def __init__(
        self,
        state: ScoredState,
        model: ScoringModel,
        now_s: int,
        parts: ScoreParts | None,
        previous: ScoreMemo | None,
    ) -> None:
        self._state, self._model, self._now_s, self._parts = state, model, now_s, parts
        self._previous = previous
        self._score: HealthScore | None = None
        self._reasons: tuple[str, ...] | None = None

    def score(self) -> HealthScore | None:
        """The output score (None if the account has no scored data)."""
        if self._score is None:
            parts = self._parts or score_parts(self._state, self._model, day_index(self._now_s))
            if parts is not None:
                as_of = datetime.fromtimestamp(self._now_s, UTC)
                self._score = build_score(self._state, parts, self._model, as_of, self._previous)
        return self._score

    def reasons(self) -> tuple[str, ...]:
        if self._reasons is None:
            score = self.score()
            self._reasons = (
                () if score is None else explain(self._state, score, self._model, score.as_of)
            )
        return self._reasons


def _prune(draft: StateDraft, now_day: int) -> None:
    """Drop buckets older than the longest window (O(1) when nothing is old)."""
    floor = horizon_floor(now_day)
    usage = draft.usage
    active, records = prune(usage.active_users, floor), prune(usage.records, floor)
    features = prune_features(usage.features, floor)
    if (
        active is not usage.active_users
        or records is not usage.records
        or features is not usage.features
    ):
        draft.usage = replace(usage, active_users=active, records=records, features=features)
    t = draft.tickets
    opened, reopened = prune(t.opened, floor), prune(t.reopened, floor)
    csat = tuple(c for c in t.csat if c[0] >= floor) if t.csat and t.csat[0][0] < floor else t.csat
    if opened is not t.opened or reopened is not t.reopened or csat is not t.csat:
        draft.tickets = type(t)(t.seen, t.open, opened, reopened, csat)
