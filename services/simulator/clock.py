"""Whole-second event times and their RFC 3339 text, without per-event datetime work.

The generator keeps every time as an int of epoch seconds (cheap to add, compare
and sort) and turns it into text only when an event is encoded. Formatting a
``datetime`` costs about a microsecond, which alone would cap the load generator
well under its target, so the text is assembled from two caches: the date part,
computed once per calendar day, and a table of the 86,400 ``HH:MM:SSZ`` suffixes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

DAY = 86_400
HOUR = 3_600
MINUTE = 60


@cache
def time_of_day_suffixes() -> tuple[str, ...]:
    """``"00:00:00Z"`` .. ``"23:59:59Z"``, indexed by second of the day."""
    return tuple(
        f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
    )


class TimestampFormatter:
    """Formats epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ`` from cached parts.

    One instance per generator: the per-day cache grows by one entry per
    simulated day, so it stays tiny even for long histories.
    """

    __slots__ = ("_days", "_tod")

    def __init__(self) -> None:
        self._days: dict[int, str] = {}
        self._tod = time_of_day_suffixes()

    def __call__(self, epoch_seconds: int) -> str:
        day, second = divmod(epoch_seconds, DAY)
        return self.date_prefix(day) + self._tod[second]

    def date_prefix(self, day: int) -> str:
        """``"YYYY-MM-DDT"`` of the ``day``-th day since the epoch."""
        prefix = self._days.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        return prefix


def parse_rfc3339(text: str) -> int:
    """Epoch seconds of an RFC 3339 timestamp; refuses one without an offset.

    An offset-less time is ambiguous (whose midnight?), and the stream's own
    contract rejects it, so the simulator does not guess either.
    """
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset (add 'Z' or '+00:00')")
    return int(moment.timestamp())


def calendar_day(epoch_seconds: int) -> tuple[int, int, int]:
    """(year, month, day of month) of a UTC epoch time."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.year, moment.month, moment.day


def weekday(epoch_seconds: int) -> int:
    """ISO weekday index, Monday = 0 (1970-01-01 was a Thursday)."""
    return (epoch_seconds // DAY + 3) % 7
