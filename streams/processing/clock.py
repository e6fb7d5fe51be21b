"""The partition clock that goes with the committed offsets.

A partition's clock is the largest event time it has seen (the design brief's
"Time"). Its account records are written piecemeal, each as it is when
written, so the table can be ahead of the committed offsets: a new owner
re-reads from those offsets, and every event it re-reads is a duplicate to
the accounts that already have it. Taking the clock from the records (their
latest ``as_of``) set it to where the old owner *stopped*, not to where the
new one starts: an event re-read before a midnight then settled after it,
and a day-rollover rescore came out stamped with the restored clock instead
of the midnight (``tests/integration/test_rebalance.py`` saw it in ~1 run of
14).

So every persist also writes one small record per partition: the clock at
each of its last takes, with the read position (next offset per input topic)
it belongs to. Offsets are committed only for inputs acked by a take, so a
committed position is one of those positions, or past the last one where
takes noted nothing while alignment held inputs read (``Runtime.take_dirty``);
the new owner, which starts reading at the committed offsets, takes the
newest entry not ahead of where it starts, and its clock then moves as the
old owner's did.

The record's key is not UTF-8, so it can never be an account's key, and it is
chosen to hash to its own partition: it lands on that partition's changelog,
next to the accounts it goes with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from streams.processing.partitioning import partition_for

#: Every clock record's key starts with this (0xFF never starts UTF-8 text).
CLOCK_KEY_PREFIX = b"\xffclock:"

#: Takes remembered per partition. Faust commits every few seconds and a
#: take comes every persist interval (30 s by default), so the committed
#: position is one of the last two; the rest is margin for a stalled commit.
HISTORY = 16

#: (clock in event-time seconds, next offset to read per input topic).
Entry = tuple[float, dict[str, int]]


@cache
def clock_key(partition: int, partitions: int) -> bytes:
    """The first ``CLOCK_KEY_PREFIX + n`` that the partitioner puts on ``partition``."""
    n = 0
    while True:
        key = CLOCK_KEY_PREFIX + str(n).encode()
        if partition_for(key, partitions) == partition:
            return key
        n += 1


def is_clock_key(key: bytes) -> bool:
    return key.startswith(CLOCK_KEY_PREFIX)


@dataclass
class ClockHistory:
    """The clock at a partition's last takes, newest last."""

    entries: list[Entry] = field(default_factory=list)

    def push(self, watermark_s: float, positions: Mapping[str, int]) -> bool:
        """Remember the clock at a take; False if nothing moved since the last one."""
        entry = (watermark_s, dict(positions))
        if self.entries and self.entries[-1] == entry:
            return False
        self.entries.append(entry)
        del self.entries[:-HISTORY]
        return True

    def entry_at(self, starts: Mapping[str, int] | None) -> Entry | None:
        """The take whose clock a new owner starts with when it starts reading
        at ``starts`` (first offset per topic; None: unknown, take the newest):
        the newest not ahead of it. None if no entry is at or before it
        (offsets committed before this record existed, or reset): the clock
        then starts from the events read."""
        for entry in reversed(self.entries):
            if starts is None or all(
                entry[1].get(topic, 0) <= offset for topic, offset in starts.items()
            ):
                return entry
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"clock": [[watermark_s, positions] for watermark_s, positions in self.entries]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ClockHistory:
        """A stored record; anything unreadable counts as no history."""
        entries: list[Entry] = []
        for item in (data or {}).get("clock", ()):
            try:
                watermark_s, positions = item
                entries.append((float(watermark_s), {str(t): int(o) for t, o in positions.items()}))
            except (TypeError, ValueError, AttributeError):
                continue
        return cls(entries[-HISTORY:])
