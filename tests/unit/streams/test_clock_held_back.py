"""The partition clock stored with a read position (``streams.processing.clock``)
is never ahead of where reading resumes, while alignment holds part of a
batch (``streams.processing.align``).

Reading resumes at the first batch still holding inputs, but the clock has
moved on with the inputs applied from it. Paired with that position, it
gave a new owner that reads from there (a crash, a rebalance, a rewind) a
clock ahead of the inputs it reads again, which then settled later than the
first time: in the #385 restore test, billing inputs read again moved the
dunning watermark of 29 accounts of one partition to that clock."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas import topics
from streams.processing.align import Ticket
from streams.processing.clock import clock_key
from streams.processing.ingest import RawMessage
from tests.unit.streams.fastpath_support import PARTITIONS, Store
from tests.unit.streams.held_back_support import ACME, T0, P, aligned_pipeline, login, usage_behind


def _left_behind(messages: list[RawMessage]) -> dict[bytes, Any]:
    """The table an owner leaves after one batch of ``messages`` whose last
    input alignment still holds, and a persist."""
    store = Store()
    pipeline = aligned_pipeline({}, store)

    async def run() -> None:
        await pipeline.handle(messages, persist=False, behind=usage_behind, ticket=Ticket())
        assert pipeline.holding == 1
        await pipeline.persist()

    asyncio.run(run())
    table: dict[bytes, Any] = {key.encode(): record for key, record in store.state.items()}
    for partition, record in store.clocks.items():
        table[clock_key(partition, PARTITIONS)] = record
    return table


def test_a_new_owner_reading_from_a_held_batch_starts_no_later_than_its_inputs() -> None:
    table = _left_behind([login(ACME, o) for o in range(10)])  # 0-8 applied, 9 held

    # The batch is unacknowledged, so a new owner reads it again from offset 0.
    new = aligned_pipeline(table, Store())
    new.runtime.read({(topics.USAGE, P): (0, 10)})

    assert new.runtime.engines[P].watermark_s <= T0.timestamp()
