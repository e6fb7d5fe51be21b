"""Bit masks shared by applying events and rescoring them.

``SEEN_*``: which usage feeds an account has (``UsageState.kinds_seen``);
``DIM_*``: which scored dimensions an applied event may have moved, so a step
rescores only those (see ``rescore``).
"""

from __future__ import annotations

# usage-kind bits in UsageState.kinds_seen: which usage feeds this account has
SEEN_LOGIN, SEEN_FEATURE, SEEN_RECORDS, SEEN_SEATS = 1, 2, 4, 8
SEEN_ACTIVITY = SEEN_LOGIN | SEEN_FEATURE | SEEN_RECORDS

# Which scored inputs an applied event touched ("dimension mask"): the rescore
# after an event recomputes only the dimensions whose bits are set (a login
# cannot move support load). ``DIM_WEIGHTS``: the profile changed, so the
# segment weights may have; ``DIM_ALL`` on a new day, when every window slides.
DIM_USAGE_FREQUENCY, DIM_FEATURE_DEPTH, DIM_DATA_GROWTH = 1, 2, 4
DIM_SUPPORT_LOAD, DIM_PAYMENT_STATUS, DIM_NPS, DIM_WEIGHTS = 8, 16, 32, 64
DIM_RECENCY, DIM_ACTIVITY_TREND = 128, 256
DIM_ACTIVE_DAYS = DIM_USAGE_FREQUENCY | DIM_ACTIVITY_TREND
"""What a new active day moves: the active-day count and its trend."""
DIM_USAGE = DIM_ACTIVE_DAYS | DIM_FEATURE_DEPTH | DIM_DATA_GROWTH | DIM_RECENCY
DIM_ALL = 511
DIM_BITS: dict[str, int] = {
    "usage_frequency": DIM_USAGE_FREQUENCY,
    "feature_depth": DIM_FEATURE_DEPTH,
    "data_growth": DIM_DATA_GROWTH,
    "support_load": DIM_SUPPORT_LOAD,
    "payment_status": DIM_PAYMENT_STATUS,
    "nps": DIM_NPS,
    "recency": DIM_RECENCY,
    "activity_trend": DIM_ACTIVITY_TREND,
}
