"""Plain-words reasons for a low score, for the alert text a CSM reads.

"Usage 12.0 of 30.0" tells nobody what to do; "logins fell from 22 to 3 active
days in 30 days" does. Reasons are ranked by the points a dimension costs the
score (weight x (100 - score) / 100), and only dimensions below the healthy
band speak. Silence comes first when it is a week or longer, because it is
the one reason that is always worth a call.
"""

from __future__ import annotations

from datetime import datetime

from streams.domain.scoring.health import DimensionScore, HealthScore
from streams.domain.scoring.model import ScoringModel
from streams.domain.scoring.state import ScoredState
from streams.domain.scoring.windows import (
    DAY_SECONDS,
    count_days,
    count_features,
    day_index,
    window_start,
)

IDLE_REASON_DAYS = 7
"""A week of silence is worth saying even before the inactivity alert (14 days)."""


def explain(
    state: ScoredState, score: HealthScore, model: ScoringModel, now: datetime, limit: int = 3
) -> tuple[str, ...]:
    """The top ``limit`` reasons why ``score`` is not healthy, most costly first."""
    now_s = int(now.timestamp())
    reasons: list[str] = []
    if score.capped_by:
        reasons.append(cap_reason(state, score, model, day_index(now_s)))
    idle = idle_days(state, now_s)
    if idle is not None and idle >= IDLE_REASON_DAYS:
        reasons.append(f"no activity for {idle} days")
    costly = sorted(score.dimensions, key=lambda d: -d.weight * (100 - d.score))
    for dim in costly:
        if len(reasons) >= limit:
            break
        if dim.name == score.capped_by:
            continue  # said first, as the cap
        if dim.score >= model.bands.healthy or dim.weight * (100 - dim.score) < 100:
            continue  # healthy, or costs less than one point
        text = describe(state, dim, model, day_index(now_s))
        if text:
            reasons.append(text)
    return tuple(reasons)


def idle_days(state: ScoredState, now_s: int) -> int | None:
    """Whole days since the last usage, None if the account was never active."""
    last = state.last_activity_s
    return None if last is None else max(0, now_s - last) // DAY_SECONDS


def cap_reason(state: ScoredState, score: HealthScore, model: ScoringModel, now_day: int) -> str:
    """The red flag holding ``score`` down, first among the reasons: it alone
    decides the score, so it is what the CSM must hear about."""
    dim = next(d for d in score.dimensions if d.name == score.capped_by)
    return f"{describe(state, dim, model, now_day)}{_caps_at(score)}"


def _caps_at(score: HealthScore) -> str:
    return f" (caps the score at {score.score:g})"


def details_of(state: ScoredState, score: HealthScore, model: ScoringModel) -> tuple[str, ...]:
    """The plain-words line of every dimension of ``score`` (``dimensions[].detail``);
    the capping dimension's line says it caps the score."""
    now_day = day_index(int(score.as_of.timestamp()))
    capped = score.capped_by
    return tuple([
        detail(state, dim, model, now_day) + (_caps_at(score) if dim.name == capped else "")
        for dim in score.dimensions
    ])  # fmt: skip


def detail(state: ScoredState, dim: DimensionScore, model: ScoringModel, now_day: int) -> str:
    """What a dimension's value is, in words, good or bad ("18 active days in
    the last 30 days", "payments up to date")."""
    name = dim.name
    if name in _SAID_BY_RAW and dim.raw > 0:
        key = (name, dim.raw)
        text = _RAW_TEXTS.get(key)
        if text is None:
            text = _detail(state, dim, model, now_day)
            if len(_RAW_TEXTS) >= _MAX_RAW_TEXTS:
                _RAW_TEXTS.clear()
            _RAW_TEXTS[key] = text
        return text
    return _detail(state, dim, model, now_day)


_SAID_BY_RAW = frozenset({"recency", "activity_trend", "data_growth", "nps"})
"""Dimensions whose line depends on the raw value alone: every health change
says one per dimension, and the same few values recur (whole days, ratios of
day counts, NPS answers), so their lines are formatted once. Zero is left out
(``-0.0`` equals ``0.0`` as a key but not in a ``%`` format)."""

_RAW_TEXTS: dict[tuple[str, float], str] = {}
_MAX_RAW_TEXTS = 4096
"""A bound, not a tuning knob: data-growth ratios take many values."""


def _detail(state: ScoredState, dim: DimensionScore, model: ScoringModel, now_day: int) -> str:
    name = dim.name
    if name == "recency":
        days = int(dim.raw)
        if days == 0:
            return "active today or yesterday"
        return f"no usage for {days} full {_plural(days, 'day')}"
    if name == "activity_trend":
        return f"{dim.raw:.0%} as many active users per day lately as usual"
    if name == "payment_status" and dim.raw <= 0:
        return "payments up to date"
    if name == "support_load":
        return _support(state, model, now_day) or "no open tickets"
    cfg = model.dimension(name)
    window = cfg.window_days if cfg is not None else 30
    start = window_start(now_day, window)
    if name == "usage_frequency":
        n = count_days(state.usage.active_users, start)
        return f"{n} active {_plural(n, 'day')} in the last {window} days"
    if name == "feature_depth":
        n = count_features(state.usage.features, start)
        return f"{n} distinct {_plural(n, 'feature')} used in {window} days"
    if name == "data_growth" and dim.raw > 0:
        return f"data added at {dim.raw:.0%} of its usual pace"
    return describe(state, dim, model, now_day)


def describe(state: ScoredState, dim: DimensionScore, model: ScoringModel, now_day: int) -> str:
    """One sentence about one dimension, worded as a reason for a low score."""
    if dim.name == "recency":
        return ""  # said once, as "no activity for N days", by ``explain``
    if dim.name == "activity_trend":
        return f"only {dim.raw:.0%} as many active users per day lately as usual"
    cfg = model.dimension(dim.name)
    window = cfg.window_days if cfg is not None else 30
    start = window_start(now_day, window)
    if dim.name == "usage_frequency":
        now_n = count_days(state.usage.active_users, start)
        before = count_days(state.usage.active_users, start - window, start)
        if before > now_n:
            return f"logins fell from {before} to {now_n} active days in {window} days"
        return f"only {now_n} active {_plural(now_n, 'day')} in the last {window} days"
    if dim.name == "feature_depth":
        now_n = count_features(state.usage.features, start)
        dropped = count_features(state.usage.features, start - window, start)
        text = f"{now_n} distinct {_plural(now_n, 'feature')} used in {window} days"
        return f"{text}, {dropped} more not used since" if dropped else f"only {text}"
    if dim.name == "data_growth":
        if dim.raw <= 0:
            return "no data added recently"
        return f"data growth slowed to {dim.raw:.0%} of its usual pace"
    if dim.name == "support_load":
        return _support(state, model, now_day)
    if dim.name == "payment_status":
        return _payment(state, int(dim.raw))
    if dim.name == "nps":
        return f"latest NPS is {int(dim.raw)} ({_nps_label(int(dim.raw))})"
    return ""


def _support(state: ScoredState, model: ScoringModel, now_day: int) -> str:
    tickets = state.tickets
    counts = [
        (n, priority)
        for priority in ("urgent", "high", "normal", "low")
        if (n := sum(1 for _, p in tickets.open if p == priority))
    ]
    total_open = len(tickets.open)
    if len(counts) == 1:
        text = f"{total_open} {counts[0][1]} {_plural(total_open, 'ticket')} open"
    elif counts:
        detail = ", ".join(f"{n} {priority}" for n, priority in counts)
        text = f"{total_open} tickets open ({detail})"
    else:
        text = ""
    window = model.support.window_days
    reopened = sum(v for d, v in tickets.reopened if d >= window_start(now_day, window))
    if reopened:
        text += f"{', ' if text else ''}{reopened} reopened in {window} days"
    since = window_start(now_day, model.support.csat_days)
    low = sum(1 for d, v in tickets.csat if d >= since and v <= model.support.low_csat_max)
    if low:
        text += f"{', ' if text else ''}{low} low CSAT {_plural(low, 'rating')}"
    return text


def _payment(state: ScoredState, days_open: int) -> str:
    n = len(state.billing.open_failures)
    if n == 1:
        return f"1 failed payment open for {days_open} {_plural(days_open, 'day')}"
    return f"{n} failed payments open, oldest for {days_open} {_plural(days_open, 'day')}"


def _nps_label(nps: int) -> str:
    return "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"
