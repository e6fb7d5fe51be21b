"""Which re-read inputs an account's stored state already holds, by offset.

A new owner (after a hand-over or a crash) reads again every input since the
last commit, against account records written after it. The duplicate check
by input id only remembers an account's last ``RECENT_IDS`` inputs, so an
account with more than that since the commit had its oldest applied twice:
``records_changed`` deltas and ticket counters counted double.

So each account record carries the read position it was written at: the
next offset of every input topic of its partition the owner had processed
(``stamp``). Batches and persist slices never interleave, so a record written
at position *p* holds every one of its account's inputs below *p*, and the
new owner treats exactly those as duplicates (``Window``), however many there
are. A topic the writer had not read is stamped -1 (unknown): its re-read
inputs fall back to the id check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.topics import INPUT_TOPICS

#: The record field: one offset per input topic, in ``INPUT_TOPICS`` order.
POSITIONS_FIELD = "o"


def stamp(record: dict[str, Any], positions: Mapping[str, int]) -> dict[str, Any]:
    """``record`` with the read position it is written at (in place)."""
    record[POSITIONS_FIELD] = [positions.get(topic, -1) for topic in INPUT_TOPICS]
    return record


@dataclass(slots=True)
class Window:
    """One input partition's accounts whose records were written past where
    reading starts: below ``end`` a message may be one they already hold."""

    #: account -> next offset its record does not hold.
    held: dict[str, int] = field(default_factory=dict)
    end: int = -1

    def holds(self, account_id: str, offset: int) -> bool:
        return offset < self.held.get(account_id, -1)


def windows(
    records: Iterable[tuple[str, Mapping[str, Any]]], floor: Mapping[str, int]
) -> dict[str, Window]:
    """Per input topic, the accounts stamped past ``floor`` (where reading
    starts, or a position at or before it: a record stamped at or below it
    holds nothing that will be read again)."""
    out: dict[str, Window] = {}
    for account_id, record in records:
        stamped = record.get(POSITIONS_FIELD)
        if not isinstance(stamped, list) or len(stamped) != len(INPUT_TOPICS):
            continue  # written before records carried positions: the id check decides
        for topic, position in zip(INPUT_TOPICS, stamped, strict=True):
            if isinstance(position, int) and position > floor.get(topic, 0):
                window = out.setdefault(topic, Window())
                window.held[account_id] = position
                window.end = max(window.end, position)
    return out
