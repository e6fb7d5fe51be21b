"""Day arithmetic for the dunning modules, on tz-aware UTC datetimes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DAY = timedelta(days=1)


def require_aware(moment: datetime, what: str) -> datetime:
    """Refuse naive datetimes: a naive ``now`` would silently shift every due time
    by the host's UTC offset, and event time must mean the same everywhere."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def days_after(moment: datetime, days: int) -> datetime:
    return moment + days * DAY


def whole_days(span: timedelta) -> int:
    """Whole days in ``span`` (floored, never negative): "days past due" for the score."""
    return max(0, span // DAY)
