"""Raw dimension values: what each health dimension measures, from the state.

The model decides how good a value is; this module decides what the value is.
``None`` means "no data" (the account has no feed for it), which the scorer
excludes and rescales around - not zero. A feed, once seen, keeps its
dimension in the score even when its windows are empty: an account that
stopped using the product must score 0 on usage, not drop the dimension.
"""

from __future__ import annotations

from collections.abc import Callable

from streams.domain.scoring.masks import SEEN_ACTIVITY, SEEN_FEATURE, SEEN_RECORDS
from streams.domain.scoring.model import BaselineRatio, DimensionConfig, ScoringModel
from streams.domain.scoring.state import ScoredState
from streams.domain.scoring.windows import (
    Series,
    count_days,
    count_features,
    day_index,
    total,
    window_start,
)


def raw_value(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """The raw value of ``dim`` for ``state`` on ``now_day``; None when no data."""
    return MEASURES[dim.name](state, dim, model, now_day)


def usage_frequency(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Active days in the window, or the recent/baseline ratio of active days."""
    usage = state.usage
    if not usage.kinds_seen & SEEN_ACTIVITY:
        return None
    if isinstance(dim.normaliser, BaselineRatio):
        return _ratio(usage.active_users, dim.normaliser, usage.first_day, now_day, days=True)
    days = count_days(usage.active_users, window_start(now_day, dim.window_days))
    return _pro_rated(days, dim.window_days, usage.first_day, now_day)


def _pro_rated(value: int, window: int, first_day: int | None, now_day: int) -> float:
    """Scale a count up for an account younger than the window: 5 active days
    out of its first 5 is every day, not 5 out of 30. Without this every new
    account would start "at risk" and page its CSM in week one."""
    age = now_day - first_day + 1 if first_day is not None else window
    if age >= window or age <= 0:
        return float(value)
    return value * window / age


def feature_depth(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Distinct features used in the window (their last use falls inside it)."""
    if not state.usage.kinds_seen & SEEN_FEATURE:
        return None
    return float(count_features(state.usage.features, window_start(now_day, dim.window_days)))


def data_growth(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Records delta in the window, or its pace against the account's baseline."""
    usage = state.usage
    if not usage.kinds_seen & SEEN_RECORDS:
        return None
    if isinstance(dim.normaliser, BaselineRatio):
        return _ratio(usage.records, dim.normaliser, usage.first_day, now_day, days=False)
    return float(total(usage.records, window_start(now_day, dim.window_days)))


def _ratio(
    series: Series, rule: BaselineRatio, first_day: int | None, now_day: int, *, days: bool
) -> float:
    """Per-day rate over ``recent_days`` / per-day rate over ``baseline_days``.

    Both windows are cut to the account's age, so a two-week-old account is
    compared with its own two weeks, not with 76 empty days. A zero or
    negative baseline gives 0 (nothing to keep pace with is no growth).
    """
    age = now_day - first_day + 1 if first_day is not None else rule.baseline_days
    recent_days = max(1, min(rule.recent_days, age))
    base_days = max(1, min(rule.baseline_days, age))
    measure = count_days if days else total
    recent = measure(series, window_start(now_day, recent_days))
    base = measure(series, window_start(now_day, base_days))
    if base <= 0:
        return 0.0
    return max(0.0, recent / recent_days) / (base / base_days)


def recency(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Whole days without any usage since the last active day (0 when it was
    used today or yesterday, so a daily user's score does not dip at every
    midnight and come back at its first login). Not a window: it keeps growing
    past 90 days, so a year of silence ranks below a quarter of it."""
    last = state.last_activity_s
    if last is None:
        return None
    return float(max(0, now_day - day_index(last) - 1))


def activity_trend(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Active users per day recently against the account's own longer baseline
    (``baseline_ratio``; see ``users_pace``): a team thinning out is fading,
    whatever the absolute level a one-size threshold would call fine."""
    usage = state.usage
    if not usage.kinds_seen & SEEN_ACTIVITY:
        return None
    rule = dim.normaliser
    if not isinstance(rule, BaselineRatio):
        return float(count_days(usage.active_users, window_start(now_day, dim.window_days)))
    return users_pace(usage.active_users, rule, usage.first_day, now_day)


def users_pace(
    active_users: Series, rule: BaselineRatio, first_day: int | None, now_day: int
) -> float:
    """Active users per day (the sum of each day's distinct users) over the
    last ``recent_days`` complete days, against the last ``baseline_days``.

    People, not days: a 20-seat team down to 3 people still has an active
    day every day, so a count of active days cannot see it thin out. Complete
    days only: today's count grows until midnight, and counted early it would
    read as a decline every morning. Both windows are cut to the days the
    account has lived (a new one keeps its own pace: 1.0)."""
    lived = now_day - first_day if first_day is not None else rule.baseline_days
    if lived <= 0:
        return 1.0
    recent_days = min(rule.recent_days, lived)
    base_days = min(rule.baseline_days, lived)
    base = total(active_users, now_day - base_days, now_day)
    if base <= 0:
        return 0.0
    recent = total(active_users, now_day - recent_days, now_day)
    return (recent / recent_days) / (base / base_days)


def support_load(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Open tickets by priority weight + reopens in the window + recent low CSATs."""
    tickets = state.tickets
    if not tickets.seen:
        return None
    cfg = model.support
    window = cfg.window_days
    load = sum(cfg.priority_weights[priority] for _, priority in tickets.open)
    load += cfg.reopen_weight * total(tickets.reopened, window_start(now_day, window))
    csat_since = window_start(now_day, cfg.csat_days)
    low = sum(1 for day, value in tickets.csat if day >= csat_since and value <= cfg.low_csat_max)
    return load + cfg.low_csat_weight * low


def payment_days_open(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """Days the oldest open failed invoice has been open (failure day = 1); 0 if none."""
    billing = state.billing
    if not billing.seen:
        return None
    if not billing.open_failures:
        return 0.0
    oldest = min(failed_at for _, failed_at, _ in billing.open_failures)
    return float(now_day - day_index(oldest) + 1)


def latest_nps(
    state: ScoredState, dim: DimensionConfig, model: ScoringModel, now_day: int
) -> float | None:
    """The latest NPS answer if it is younger than the model's ``nps_max_age_days``."""
    if state.nps is None:
        return None
    score, at_s = state.nps
    if now_day - day_index(at_s) >= model.nps_max_age_days:
        return None
    return float(score)


Measure = Callable[[ScoredState, DimensionConfig, ScoringModel, int], float | None]
MEASURES: dict[str, Measure] = {
    "usage_frequency": usage_frequency,
    "feature_depth": feature_depth,
    "data_growth": data_growth,
    "support_load": support_load,
    "payment_status": payment_days_open,
    "nps": latest_nps,
    "recency": recency,
    "activity_trend": activity_trend,
}
