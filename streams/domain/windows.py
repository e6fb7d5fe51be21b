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

Every function is pure and returns a new tuple; nothing here reads a clock.
The one table kept between calls, behind ``shared``, only decides which of
several equal objects a result holds (memory: a worker keeps every account it
owns), never what it equals.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_left
from collections.abc import Hashable
from operator import itemgetter
from typing import Any, TypeAlias, TypeVar, cast

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


_SHARED: dict[Hashable, Any] = {}
_MAX_SHARED = 65_536
"""Days, feature entries and small buckets of a 90-day horizon fit many times
over; a bound against odd inputs, not a tuning knob."""

_T = TypeVar("_T", bound=Hashable)


def shared(value: _T) -> _T:
    """The one object equal to ``value`` that every account's stored state holds.

    A worker keeps every account it owns in memory, and their buckets repeat
    the same values: a day index (~20,000, above CPython's small-int cache:
    28 bytes a copy), a ``(feature, day)`` entry, a past day's small count.
    Called where such a value is stored for a new day, not per event."""
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) >= _MAX_SHARED:
            _SHARED.clear()  # still correct: only the sharing starts over
        found = _SHARED[value] = value
    return cast(_T, found)


def sealed(bucket: tuple[int, int]) -> tuple[int, int]:
    """A past day's bucket, shared when its value is one CPython keeps a single
    int for (-5..256: active users, tickets); larger values rarely repeat
    across accounts and would only fill the table."""
    return shared(bucket) if -5 <= bucket[1] <= 256 else bucket


def _after(series: Series, bucket: tuple[int, int]) -> Series:
    """``series`` with ``bucket`` (a later day) appended and the old tail sealed."""
    tail = series[-1]
    kept = sealed(tail)
    if kept is tail:
        return series + (bucket,)  # noqa: RUF005 (faster than unpacking)
    return series[:-1] + (kept, bucket)  # noqa: RUF005 (faster than unpacking)


def window_start(now_day: int, days: int) -> int:
    """The first day (inclusive) of a ``days``-long window ending on ``now_day``."""
    return now_day - days + 1


def horizon_floor(now_day: int) -> int:
    """Buckets before this day are outside every window and may be dropped."""
    return window_start(now_day, HORIZON_DAYS)


# --- series -------------------------------------------------------------------


def add(series: Series, day: int, amount: int) -> Series:
    """Add ``amount`` to the bucket of ``day`` (creating it)."""
    if series:
        last_day, last_value = series[-1]
        if day == last_day:
            return series[:-1] + ((last_day, last_value + amount),)  # noqa: RUF005 (faster than unpacking)
        if day > last_day:
            return _after(series, (shared(day), amount))
        return _merge_old(series, day, amount, maximum=False)
    return ((shared(day), amount),)


def put_max(series: Series, day: int, value: int) -> Series:
    """Set the bucket of ``day`` to ``max(existing, value)`` (for distinct counts)."""
    if series:
        last_day, last_value = series[-1]
        if day == last_day:
            if value <= last_value:
                return series
            return series[:-1] + ((last_day, value),)  # noqa: RUF005 (faster than unpacking)
        if day > last_day:
            return _after(series, (shared(day), value))
        return _merge_old(series, day, value, maximum=True)
    return ((shared(day), value),)


def _merge_old(series: Series, day: int, value: int, *, maximum: bool) -> Series:
    """The rare late-event path: a bucket before the newest one (a past day's,
    so sealed like the ones ``_after`` leaves behind)."""
    i = bisect_left(series, day, key=_first)
    if i < len(series) and series[i][0] == day:
        old = series[i][1]
        new = max(old, value) if maximum else old + value
        if new == old:
            return series
        return (*series[:i], sealed((series[i][0], new)), *series[i + 1 :])
    return (*series[:i], sealed((shared(day), value)), *series[i:])


def record_peak(series: Series, day: int, value: int) -> Series:
    """Raise the newest day's bucket to ``value``, or append a bucket for a new
    ``day`` (alert history: one peak score per day, days only ever move on).

    Here rather than in ``alerts``: that module is compiled by mypyc
    (``streams/native.py``), where a bucket taken apart and rebuilt gets new
    int objects and stops sharing its day."""
    if series and series[-1][0] == day:
        if series[-1][1] >= value:
            return series
        return (*series[:-1], (series[-1][0], value))
    return (*series, (shared(day), value))


def peaks_after(series: Series, cutoff_day: int) -> Series:
    """The buckets after ``cutoff_day``; ascending days, so usually none is old
    and the same tuple comes back."""
    if not series or series[0][0] > cutoff_day:
        return series
    return tuple(h for h in series if h[0] > cutoff_day)


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


def prune(series: Series, floor_day: int) -> Series:
    """Drop the buckets before ``floor_day``; O(1) when nothing is old."""
    if not series or series[0][0] >= floor_day:
        return series
    return series[bisect_left(series, floor_day, key=_first) :]


def encode_series(series: Series, base_day: int) -> list[int]:
    """Flat, delta-encoded JSON form (see the module docstring)."""
    out: list[int] = []
    previous = base_day
    for i, (day, value) in enumerate(series):
        out.append(base_day - day if i == 0 else day - previous)
        out.append(value)
        previous = day
    return out


def decode_series(flat: list[int], base_day: int) -> Series:
    """Inverse of :func:`encode_series`; raises ``ValueError`` on a malformed list."""
    if len(flat) % 2:
        raise ValueError("series must have an even number of items")
    pairs: list[tuple[int, int]] = []
    day = base_day
    for i in range(0, len(flat), 2):
        day = base_day - flat[i] if i == 0 else day + flat[i]
        if pairs and day <= pairs[-1][0]:
            raise ValueError("series days must be ascending")
        pairs.append(sealed((shared(day), int(flat[i + 1]))))
    return tuple(pairs)


# --- features -----------------------------------------------------------------


def touch_feature(features: Features, name: str, day: int, cap: int) -> Features:
    """Record ``name`` as used on ``day``, keeping at most ``cap`` features.

    Least-recently-used order: the entry moves to the end; when full, the
    first (unused for longest) is evicted. A feature already marked today is
    the common case and returns the same tuple without copying.
    """
    if (name, day) in features:
        return features
    kept = tuple(entry for entry in features if entry[0] != name)
    previous = next((d for n, d in features if n == name), None)
    if previous is not None and previous > day:
        day = previous  # a late event must not make a feature look older
    if len(kept) >= cap:
        kept = kept[len(kept) - cap + 1 :]
    if kept and kept[-1][1] > day:
        # keep ascending last-day order for late events
        i = bisect_left(kept, day, key=lambda entry: entry[1])
        return (*kept[:i], feature_entry(name, day), *kept[i:])
    return (*kept, feature_entry(name, day))


def feature_entry(name: str, day: int) -> tuple[str, int]:
    """A ``(feature, last_day)`` entry, shared: ``name`` comes fresh from each
    decoded event, and every account using a feature on a day holds the same."""
    return shared((name, shared(day)))


def decode_features(flat: list[Any], base_day: int) -> Features:
    """The stored ``[name, base - day, ...]`` form back into shared entries.

    Here rather than in ``state``, which is compiled by mypyc
    (``streams/native.py``): an entry built there would be taken apart and
    rebuilt as a new tuple."""
    return tuple(
        feature_entry(str(flat[i]), base_day - int(flat[i + 1])) for i in range(0, len(flat), 2)
    )


def count_features(features: Features, since_day: int, until_day: int | None = None) -> int:
    """Distinct features whose last use falls in ``[since_day, until_day)``."""
    return sum(
        1 for _, day in features if day >= since_day and (until_day is None or day < until_day)
    )


def prune_features(features: Features, floor_day: int) -> Features:
    """Forget features unused since before ``floor_day``."""
    if not features or features[0][1] >= floor_day:
        return features
    return tuple(entry for entry in features if entry[1] >= floor_day)


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
