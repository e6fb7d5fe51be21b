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

A stamp must never claim less than its record holds: the id check remembers
only an account's last ``RECENT_IDS`` inputs, and each older input it applies
again pushes out one it remembered, so a crash then re-applies every input
the stamp left out. Where alignment holds inputs read (``streams.processing.
align``), reading resumes at the first batch still holding some, behind
inputs applied; an account with none held holds every input read of it, and
is stamped where reading got to (``Runtime.stored_form``). A record restored
with a stamp past where reading resumes holds its inputs up to that stamp
however far they were read again, so its stamp is the floor of any later one
(``ahead``, ``stamp``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.topics import INPUT_TOPICS

#: The record field: one offset per input topic, in ``INPUT_TOPICS`` order.
POSITIONS_FIELD = "o"


def stamp(
    record: dict[str, Any], positions: Mapping[str, int], floor: Sequence[int] | None = None
) -> dict[str, Any]:
    """``record`` with the read position it is written at (in place); at
    least ``floor`` per topic (the stamp it was restored with, ``ahead``)."""
    stamped = [positions.get(topic, -1) for topic in INPUT_TOPICS]
    if floor is not None:
        stamped = [max(now, then) for now, then in zip(stamped, floor, strict=True)]
    record[POSITIONS_FIELD] = stamped
    return record


def _stamped(record: Mapping[str, Any]) -> list[int] | None:
    """The record's stamp, one offset per input topic (-1: unknown); None for
    a record written before records carried positions, or unreadable."""
    stamped = record.get(POSITIONS_FIELD)
    if not isinstance(stamped, list) or len(stamped) != len(INPUT_TOPICS):
        return None
    return [position if isinstance(position, int) else -1 for position in stamped]


def ahead(
    records: Iterable[tuple[str, Mapping[str, Any]]], floor: Mapping[str, int]
) -> dict[str, list[int]]:
    """account -> its record's stamp, for the records stamped past ``floor``
    (where reading resumes) in some topic: the floor of their next stamps."""
    out: dict[str, list[int]] = {}
    for account_id, record in records:
        stamped = _stamped(record)
        if stamped is not None and any(
            position > floor.get(topic, 0)
            for topic, position in zip(INPUT_TOPICS, stamped, strict=True)
        ):
            out[account_id] = stamped
    return out


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
        stamped = _stamped(record)
        if stamped is None:
            continue  # written before records carried positions: the id check decides
        for topic, position in zip(INPUT_TOPICS, stamped, strict=True):
            if position > floor.get(topic, 0):
                window = out.setdefault(topic, Window())
                window.held[account_id] = position
                window.end = max(window.end, position)
    return out
