"""The one entry point of the domain: a batch of one account's events in, a
new state plus what to emit out. The Faust agent and ``healthscore replay``
both call ``process_batch``; the clock tick calls ``advance_time``.

When to score - once per batch, after all of its events. A batch is what the
consumer had for this account at once (a burst), and scoring costs more than
applying an event, so per-event scoring would spend most of the hot path on
intermediate scores nobody reads. Consequences, by design:

- hysteresis and "one alert" hold per batch: a batch moves the score once,
  so it can cross the threshold at most once and raise at most one
  ``health_below_threshold`` (or one ``health_recovered``);
- a dip that starts and ends *inside* one batch is not seen; it lasted less
  than one consumer poll of the same account's events, which is no risk;
- the cause time of a score-driven output is the time of the latest event
  applied in the batch, so re-processing the same batches (a retry, a
  deterministic replay) gives the same ids; a run that cuts batches
  differently can attribute a crossing to another event of the same burst.
- rescoring is skipped when no scored input changed and the day is the same
  (the second login of the day changes nothing the score reads); the score
  only depends on day-granular windows, so this is exact, not a cache.

Time is event time: ``now`` is the partition watermark the caller passes, and
the account's clock never runs backwards (``max(now, events, last as_of)``).
A tick (``advance_time``) lets windows slide and silence show for accounts
that send nothing; its score changes are caused at the start of the day, so
the ids do not depend on when the tick ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import attrgetter

from streams.domain.alerts import AlertDecision, AlertInput, next_alert_state
from streams.domain.apply import StateDraft, id_digest
from streams.domain.events import DomainEvent
from streams.domain.model import ScoringModel
from streams.domain.reasons import explain
from streams.domain.scoring import (
    HealthScore,
    ScoreParts,
    build_score,
    memo_of,
    same_score,
    score_parts,
)
from streams.domain.state import AccountState, ScoreMemo
from streams.domain.windows import (
    DAY_SECONDS,
    day_index,
    horizon_floor,
    prune,
    prune_features,
)

_at = attrgetter("at")


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one step: the state to store and what to emit."""

    state: AccountState | None
    health: HealthChange | None
    alerts: tuple[AlertDecision, ...]
    applied: int
    duplicates: int


def process_batch(
    state: AccountState | None,
    events: Sequence[DomainEvent],
    model: ScoringModel,
    now: datetime,
) -> StepResult:
    """Apply one account's events in event-time order (dropping recent
    duplicates), then score once and decide alerts. ``state`` None = new account."""
    if not events:
        return advance_time(state, model, now)
    ordered = events if len(events) == 1 else sorted(events, key=_at)
    account_id = state.account_id if state is not None else ordered[0].account_id
    feature_dim = model.dimension("feature_depth")
    draft = StateDraft(
        state if state is not None else AccountState(account_id),
        feature_window=feature_dim.window_days if feature_dim is not None else 90,
    )
    dirty = False
    applied = duplicates = 0
    cause_s: int | None = None
    for event in ordered:
        if event.account_id != account_id:
            raise ValueError(f"event {event.id} of {event.account_id} in a batch for {account_id}")
        digest = id_digest(event.id)
        if digest in draft.recent:
            duplicates += 1
            continue
        at_s = int(event.at.timestamp())
        dirty = draft.apply(event, at_s) or dirty
        draft.remember(digest)
        applied += 1
        cause_s = at_s
    return _settle(draft, model, now, dirty, cause_s, applied, duplicates)


def advance_time(state: AccountState | None, model: ScoringModel, now: datetime) -> StepResult:
    """The clock tick: windows slide, silence grows, the score may decay and
    alerts may fire, without any event."""
    if state is None:
        return StepResult(None, None, (), 0, 0)
    return _settle(StateDraft(state), model, now, False, None, 0, 0)


def _settle(
    draft: StateDraft,
    model: ScoringModel,
    now: datetime,
    dirty: bool,
    cause_s: int | None,
    applied: int,
    duplicates: int,
) -> StepResult:
    """Slide the windows to ``now``, rescore if needed, decide alerts."""
    now_s = max(int(now.timestamp()), draft.watermark_s or 0, draft.as_of_s or 0)
    now_day = day_index(now_s)
    memo = draft.last_score
    new_day = draft.as_of_s is None or day_index(draft.as_of_s) != now_day
    if new_day or dirty:
        _prune(draft, now_day)
    draft.as_of_s = now_s
    stale = memo is None or memo.day != now_day or memo.model_version != model.version
    parts = score_parts(draft.freeze(), model, now_day) if dirty or stale else None
    new_memo = memo if parts is None else memo_of(parts, model, now_day)
    changed = new_memo is not None and (memo is None or not same_score(memo, new_memo))
    if parts is None and _inactivity_not_due(draft, model, now_s):
        return StepResult(draft.freeze(), None, (), applied, duplicates)
    draft.last_score = new_memo
    state = draft.freeze()
    as_of = datetime.fromtimestamp(now_s, UTC)
    explained = _Explainer(state, model, as_of, parts, memo)
    step = AlertInput(
        account_id=state.account_id,
        profile=state.profile,
        score_t=new_memo.score_t if new_memo else None,
        previous_t=memo.score_t if memo else None,
        band=new_memo.band if new_memo else None,
        rescored=parts is not None and (changed or stale),
        last_activity_s=state.last_activity_s,
        now_s=now_s,
        cause_s=cause_s if cause_s is not None else now_day * DAY_SECONDS,
        model_version=model.version,
    )
    alert_state, alerts = next_alert_state(state.alerts, step, model.alerts, explained.reasons)
    health = None
    score = explained.score() if changed else None
    if score is not None:
        health = _health_change(state, score, step.cause_s, explained.reasons())
    if alert_state is not state.alerts:
        draft.alerts = alert_state
        state = draft.freeze()
    return StepResult(state, health, alerts, applied, duplicates)


def _inactivity_not_due(draft: StateDraft, model: ScoringModel, now_s: int) -> bool:
    last = draft.last_activity_s
    return (
        last is None
        or draft.alerts.inactivity_spell_s == last
        or now_s < last + model.alerts.inactivity_days * DAY_SECONDS
    )


def _health_change(
    state: AccountState, score: HealthScore, cause_s: int, reasons: tuple[str, ...]
) -> HealthChange:
    parts = (state.account_id, "health", cause_s, score.score_tenths, score.model_version)
    key = "\x1f".join(map(str, parts))
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
    )


class _Explainer:
    """Builds the output score and the reasons at most once per step, and only
    when something is emitted (most steps emit nothing)."""

    __slots__ = ("_as_of", "_model", "_parts", "_previous", "_reasons", "_score", "_state")

    def __init__(
        self,
        state: AccountState,
        model: ScoringModel,
        as_of: datetime,
        parts: ScoreParts | None,
        previous: ScoreMemo | None,
    ) -> None:
        self._state, self._model, self._as_of, self._parts = state, model, as_of, parts
        self._previous = previous
        self._score: HealthScore | None = None
        self._reasons: tuple[str, ...] | None = None

    def score(self) -> HealthScore | None:
        """The output score (None if the account has no scored data)."""
        if self._score is None:
            parts = self._parts or score_parts(
                self._state, self._model, day_index(int(self._as_of.timestamp()))
            )
            if parts is not None:
                self._score = build_score(
                    self._state, parts, self._model, self._as_of, self._previous
                )
        return self._score

    def reasons(self) -> tuple[str, ...]:
        if self._reasons is None:
            score = self.score()
            self._reasons = (
                () if score is None else explain(self._state, score, self._model, self._as_of)
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
