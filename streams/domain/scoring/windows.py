"""Compact rolling daily windows: the per-account memory behind 7/30/90-day queries.

Why daily buckets and not raw events: a 90-day question ("active days in the
last 30 days", "records added vs the quarter's pace") only needs one number per
day, and an active account produces thousands of events per quarter. Buckets
keep the state bounded (at most ``HORIZON_DAYS`` entries per series) whatever
the event rate, which is what keeps the Faust changelog entry small.

Representation (chosen for the hot path and for the JSON size budget):

- a ``Series`` is a tuple of ``(day, value)`` pairs, ascending by day, sparse
  (days without data are absent). ``day`` is the day index: whole days since
  the Unix epoch in UTC. Appending to today's bucket touches only the tail, so
  the common case (an event for the newest day) is O(1) plus one tuple copy;
- encoded to JSON as a flat int list relative to a base day:
  ``[base - day0, v0, day1 - day0, v1, ...]``; the gaps and counts are small
  ints, 3-6 characters per active day;
- feature recency is a tuple of ``(feature, last_day)`` in least-recently-used
  order with a cap, so "distinct features in 30 days" is a count and a new
  feature evicts the one unused for longest;
- distinct users per day are estimated from a 64-bit bitmap of the current day
  (linear counting): exact for a handful of users, within about 10 % up to
  ~150 and saturating at ~266; it is context for people, not a scored input.

Queries take ``since_day`` (inclusive). A window of N days ending on
``now_day`` is ``window_start(now_day, N) = now_day - N + 1``.

Every function is pure; nothing here reads a clock. This module only reads
series (and is compiled, ``streams/speedups/native.py``); ``streams.domain.scoring.series``
builds them, apart because it shares equal values between accounts and so
stays interpreted.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_left
from operator import itemgetter
from typing import TypeAlias

DAY_SECONDS = 86_400
HORIZON_DAYS = 90
"""The longest window any query needs; older buckets are pruned."""

Series: TypeAlias = tuple[tuple[int, int], ...]
Features: TypeAlias = tuple[tuple[str, int], ...]

_first = itemgetter(0)
_second = itemgetter(1)


def day_index(epoch_seconds: int) -> int:
    """Whole UTC days since the epoch: the bucket key for an event time."""
    return epoch_seconds // DAY_SECONDS


def window_start(now_day: int, days: int) -> int:
    """The first day (inclusive) of a ``days``-long window ending on ``now_day``."""
    return now_day - days + 1


def horizon_floor(now_day: int) -> int:
    """Buckets before this day are outside every window and may be dropped."""
    return window_start(now_day, HORIZON_DAYS)


def has_day(series: Series, day: int) -> bool:
    """Whether ``day`` has a bucket (the tail is checked first: it is the usual hit)."""
    if not series:
        return False
    if series[-1][0] == day:
        return True
    i = bisect_left(series, day, key=_first)
    return i < len(series) and series[i][0] == day


def total(series: Series, since_day: int, until_day: int | None = None) -> int:
    """Sum of the buckets with ``since_day <= day`` (``< until_day`` when given)."""
    lo, hi = _span(series, since_day, until_day)
    return sum(map(_second, series[lo:hi]))


def count_days(series: Series, since_day: int, until_day: int | None = None) -> int:
    """Number of buckets (days with data) in ``[since_day, until_day)``."""
    lo, hi = _span(series, since_day, until_day)
    return hi - lo


def _span(series: Series, since_day: int, until_day: int | None) -> tuple[int, int]:
    """Index range of a day range: two C-level binary searches, no Python loop."""
    lo = bisect_left(series, since_day, key=_first)
    hi = len(series) if until_day is None else bisect_left(series, until_day, key=_first)
    return lo, max(lo, hi)


def encode_series(series: Series, base_day: int) -> list[int]:
    """Flat, delta-encoded JSON form (see the module docstring)."""
    out: list[int] = []
    previous = base_day
    for i, (day, value) in enumerate(series):
        out.append(base_day - day if i == 0 else day - previous)
        out.append(value)
        previous = day
    return out


def count_features(features: Features, since_day: int, until_day: int | None = None) -> int:
    """Distinct features whose last use falls in ``[since_day, until_day)``."""
    return sum(
        1 for _, day in features if day >= since_day and (until_day is None or day < until_day)
    )


# --- distinct users per day -----------------------------------------------------

_BITMAP_BITS = 64
_LINEAR_COUNT = tuple(
    round(-_BITMAP_BITS * math.log((_BITMAP_BITS - ones) / _BITMAP_BITS))
    if ones < _BITMAP_BITS
    else round(_BITMAP_BITS * math.log(_BITMAP_BITS))
    for ones in range(_BITMAP_BITS + 1)
)


def user_bit(user_id: str) -> int:
    """The bitmap bit of a user; crc32 because Python's ``hash`` differs per process."""
    return 1 << (zlib.crc32(user_id.encode()) & (_BITMAP_BITS - 1))


def estimate_users(bitmap: int) -> int:
    """Linear-counting estimate of the distinct users marked in ``bitmap``."""
    return _LINEAR_COUNT[bitmap.bit_count()]
