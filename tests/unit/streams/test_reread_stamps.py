"""The read position stamped on an account record (``streams.processing.
reread``) never falls behind the inputs the record holds, while alignment
holds part of a batch (``streams.processing.align``).

The positions a persist goes with, where reading resumes, stop at the first
offset of the earliest batch still holding inputs: that is what the offsets
acked and committed can be. Stamped on every record, that put records
holding inputs of that batch at its start: after a restore that read
everything again, an account whose re-read inputs were all duplicates was
written with the rewound offsets instead of its restored stamp, and nothing
wrote it again (the #385 restore test, 12 accounts in 1 of 4 runs); in a
first run, an account applied from a half-held batch was stamped at the
batch's start. Either way a crash then re-applied its inputs past the
last ``RECENT_IDS`` the duplicate check remembers."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.domain.scoring.state import RECENT_IDS
from streams.processing.align import Behind, Ticket, never_behind
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.reread import POSITIONS_FIELD
from tests.unit.streams.fastpath_support import PARTITIONS, Store
from tests.unit.streams.held_back_support import ACME, P, aligned_pipeline, login, usage_behind

#: Another account of acme's partition: alignment orders their inputs together.
OTHER = next(f"a{n}" for n in range(1000) if partition_for(f"a{n}", PARTITIONS) == P)
USAGE_AT = INPUT_TOPICS.index(topics.USAGE)
#: acme's logins: more than the duplicate check remembers.
LOGINS = RECENT_IDS + 8


def _feed() -> list[RawMessage]:
    """acme's logins, then OTHER's, on one usage partition."""
    return [login(ACME if o < LOGINS else OTHER, o) for o in range(LOGINS + 10)]


def _persisted(
    table: dict[str, Any], messages: list[RawMessage], behind: Behind = usage_behind
) -> dict[str, Any]:
    """The records written per account after one batch of ``messages`` (with
    usage behind, the last input is held) against ``table``, and a persist."""
    store = Store()
    pipeline = aligned_pipeline({key.encode(): record for key, record in table.items()}, store)

    async def run() -> None:
        # The fast path's way: the batch's ticket tells where it read.
        await pipeline.handle(messages, persist=False, behind=behind, ticket=Ticket())
        assert pipeline.holding == (behind is usage_behind)
        await pipeline.persist()

    asyncio.run(run())
    return store.state


def _stamp(record: dict[str, Any]) -> int:
    return int(record[POSITIONS_FIELD][USAGE_AT])


def _applied_again(table: dict[str, Any]) -> int:
    """How many of acme's inputs a new owner applies as new, reading them
    again from offset 0 against ``table`` (a crash before any commit)."""
    pipeline = aligned_pipeline({key.encode(): record for key, record in table.items()}, Store())
    asyncio.run(pipeline.handle(_feed()[:LOGINS], persist=False))
    return pipeline.runtime.engines[P].counts.applied


def test_an_account_with_nothing_held_is_stamped_where_reading_got_to() -> None:
    written = _persisted({}, _feed())  # OTHER's last login is held

    # Every input of acme's was applied: its record holds usage up to the read end.
    assert _stamp(written[ACME]) == LOGINS + 10
    # OTHER's record claims no more than the held batch's start.
    assert _stamp(written[OTHER]) == 0
    # Stamped at 0, all 40 of acme's: each old one applied again pushed out an id remembered.
    assert _applied_again(written) == 0


def test_a_restored_account_keeps_its_stamp_while_an_input_of_it_is_held() -> None:
    first = _persisted({}, _feed()[:LOGINS], never_behind)
    assert _stamp(first[ACME]) == LOGINS

    # A new owner reads acme's inputs again from offset 0 (a rewind, or a
    # crash before any commit): all duplicates of its restored record, but a
    # new one after them is held, and acme's record is written meanwhile.
    again = _persisted(first, [*_feed()[:LOGINS], login(ACME, LOGINS)])

    assert _stamp(again[ACME]) == LOGINS
    assert again[ACME] == first[ACME], "nothing else changed"
    assert _applied_again(again) == 0
