"""Building daily series and feature lists, sharing equal values between accounts.

A worker keeps every account it owns in memory, and their buckets repeat the
same values: the day numbers, past days' small buckets, ``(feature, day)``
entries. Every function here that stores such a value for a new day stores the
one shared object equal to it (``shared``). The table behind it only decides
which of several equal objects a result holds, never what it equals.

Apart from ``streams.domain.scoring.windows`` (the queries) because this module must
stay interpreted: compiled by mypyc (``streams/speedups/native.py``), a bucket taken
apart and rebuilt gets new int objects and the sharing is lost. Series and
their JSON form are described in ``streams.domain.scoring.windows``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable
from operator import itemgetter
from typing import Any, TypeVar, cast

from streams.domain.scoring.windows import Features, Series

_first = itemgetter(0)

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
    (``streams/speedups/native.py``), where a bucket taken apart and rebuilt gets new
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


def prune(series: Series, floor_day: int) -> Series:
    """Drop the buckets before ``floor_day``; O(1) when nothing is old."""
    if not series or series[0][0] >= floor_day:
        return series
    return series[bisect_left(series, floor_day, key=_first) :]


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
    (``streams/speedups/native.py``): an entry built there would be taken apart and
    rebuilt as a new tuple."""
    return tuple(
        feature_entry(str(flat[i]), base_day - int(flat[i + 1])) for i in range(0, len(flat), 2)
    )


def prune_features(features: Features, floor_day: int) -> Features:
    """Forget features unused since before ``floor_day``."""
    if not features or features[0][1] >= floor_day:
        return features
    return tuple(entry for entry in features if entry[1] >= floor_day)
