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
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.processing.align import Aligner, Ticket
from streams.processing.clock import clock_key
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from tests.unit.streams.fastpath_support import PARTITIONS, Sink, Store

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
ACME = "acme"
P = partition_for(ACME, PARTITIONS)


def _login(offset: int) -> RawMessage:
    value = {
        "id": f"l{offset}",
        "account_id": ACME,
        "type": "login",
        "time": (T0 + timedelta(minutes=offset)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user_id": f"u{offset}",
    }
    return RawMessage(topics.USAGE, P, offset, ACME.encode(), orjson.dumps(value))


def usage_behind(topic: str, partition: int) -> bool:
    """More usage is on the broker: the last usage input read bounds the rest."""
    return topic == topics.USAGE


def _pipeline(table: dict[bytes, Any], store: Store) -> Pipeline:
    runtime = Runtime(load_rules(), PARTITIONS, table)
    return Pipeline(
        runtime, Sink(), store, DeadLetterLimit(max_ratio=1.0), aligner=Aligner(INPUT_TOPICS)
    )


def _left_behind(messages: list[RawMessage]) -> dict[bytes, Any]:
    """The table an owner leaves after one batch of ``messages`` whose last
    input alignment still holds, and a persist."""
    store = Store()
    pipeline = _pipeline({}, store)

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
    table = _left_behind([_login(o) for o in range(10)])  # 0-8 applied, 9 held

    # The batch is unacknowledged, so a new owner reads it again from offset 0.
    new = _pipeline(table, Store())
    new.runtime.read({(topics.USAGE, P): (0, 10)})

    assert new.runtime.engines[P].watermark_s <= T0.timestamp()
