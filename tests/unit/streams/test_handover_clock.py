"""A partition handed over mid-stream gives the outputs of an uninterrupted run.

The old owner commits the inputs of one persist, processes more, then is
revoked and writes every account as it is (ahead of the committed offsets).
The new owner restores that table and reads from the committed offsets
again. Every health and alert record must be the uninterrupted run's, field
for field (``as_of`` included), and nothing else may appear: the restored
partition clock must be the one at the committed offsets (``streams.processing.clock``),
not the latest ``as_of`` in the table.

Deferred midnight wakes are fired 64 at a time after each batch (no time
budget), so accounts still wait for theirs when the partition moves, which
is when a clock taken from the table stamped day-rollover rescores late.
A real Runtime and Pipeline on a dict table; the producer is a recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from schemas import topics
from streams.processing.clock import ClockHistory, clock_key, is_clock_key
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import DecodedBatch, RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.worker.state_writers import table_writer
from tests.unit.streams.fastpath_support import PARTITIONS, Sink
from tests.unit.streams.fastpath_support import batches as fastpath_batches

OUTPUTS = (topics.HEALTH, topics.ALERTS)


class _NoWakeBudget(Pipeline):
    """Fires deferred wakes one step (64) per batch, whatever the batch took."""

    @staticmethod
    def _wake_budget(batch: DecodedBatch, batch_seconds: float) -> float:
        return 0.0


def _pipeline(table: dict[bytes, Any]) -> Pipeline:
    return _NoWakeBudget(
        Runtime(load_rules(), PARTITIONS, table),
        Sink(),  # type: ignore[arg-type]
        table_writer(table),
        DeadLetterLimit(max_ratio=1.0),
        spread_wakes=True,
    )


def _outputs(pipeline: Pipeline) -> list[tuple[str, bytes]]:
    sink: Sink = pipeline.sink  # type: ignore[assignment]
    return [(topic, value) for topic, _key, value, *_ in sink.records if topic in OUTPUTS]


async def _uninterrupted(batches: Sequence[list[RawMessage]]) -> dict[str, bytes]:
    pipeline = _pipeline({})
    for batch in batches:
        await pipeline.handle(batch, persist=False)
    await pipeline.catch_up(None)
    return _by_id(_outputs(pipeline))


async def _handed_over(
    batches: Sequence[list[RawMessage]], committed: int, revoked: int
) -> tuple[list[tuple[str, bytes]], dict[bytes, Any]]:
    """The old owner persists after batch ``committed`` (its inputs so far are
    committed), goes on to batch ``revoked``, writes everything and stops;
    the new owner restores the table and reads from after ``committed``."""
    table: dict[bytes, Any] = {}
    old = _pipeline(table)
    for index, batch in enumerate(batches[: revoked + 1]):
        await old.handle(batch, persist=False)
        if index == committed:
            await old.persist()
    await old.persist()  # the revocation: every account as it is now
    new = _pipeline(table)
    for batch in batches[committed + 1 :]:
        await new.handle(batch, persist=False)
    await new.catch_up(None)
    return _outputs(old) + _outputs(new), table


def _by_id(outputs: list[tuple[str, bytes]]) -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    for _topic, value in outputs:
        event_id = orjson.loads(value)["id"]
        assert seen.setdefault(event_id, value) == value, f"{event_id} repeated differently"
    return seen


def _fields(expected: dict[str, bytes], got: dict[str, bytes], ids: list[str]) -> set[str]:
    """Which fields of ``data`` differ between the two runs, over ``ids``."""
    fields = set()
    for event_id in ids:
        want, have = orjson.loads(expected[event_id])["data"], orjson.loads(got[event_id])["data"]
        fields |= {key for key in want.keys() | have.keys() if want.get(key) != have.get(key)}
    return fields


def _midnight_batch(batches: Sequence[list[RawMessage]]) -> int:
    """The first batch with an event after the first midnight of the history."""
    first_day = None
    for index, batch in enumerate(batches):
        for message in batch:
            at = orjson.loads(message.value or b"")["time"]
            day = at[:10]
            first_day = first_day or day
            if day != first_day and index > 2:
                return index
    raise AssertionError("the history has no midnight")


@pytest.mark.parametrize("before, after", [(1, 1), (2, 3), (1, 6), (None, 2)])
async def test_new_owner_resumes_with_the_clock_of_the_committed_offsets(
    before: int | None, after: int
) -> None:
    """``before``/``after``: batches between the commit and the first midnight,
    and between it and the revocation. None: nothing was committed and the
    revocation comes ``after`` batches in: the new owner reads from the start,
    and its clock comes from the events (no stored clock is that early)."""
    batches = fastpath_batches(800, 300)
    midnight = _midnight_batch(batches)
    expected = await _uninterrupted(batches)
    assert len(expected) > 500, "the history must score"

    if before is None:
        outputs, table = await _handed_over(batches, -1, after)
    else:
        outputs, table = await _handed_over(batches, midnight - before, midnight + after)

    got = _by_id(outputs)
    differing = sorted(i for i in expected.keys() & got.keys() if expected[i] != got[i])
    assert not differing, f"{len(differing)} outputs differ: {_fields(expected, got, differing)}"
    assert got.keys() - expected.keys() == set(), "outputs the uninterrupted run has not"
    assert expected.keys() - got.keys() == set(), "outputs lost in the hand-over"
    assert any(is_clock_key(key) for key in table), "the partition clocks were written"


def test_clock_is_the_newest_taken_at_or_before_where_reading_starts() -> None:
    clocks = ClockHistory()
    assert clocks.push(100.0, {"usage": 10, "tickets": 3})
    assert not clocks.push(100.0, {"usage": 10, "tickets": 3}), "nothing moved"
    assert clocks.push(200.0, {"usage": 20, "tickets": 3})
    assert clocks.push(250.0, {"usage": 20, "tickets": 3})  # the live tick moved it
    assert clocks.push(300.0, {"usage": 30, "tickets": 5})

    assert clocks.entry_at({"usage": 20})[0] == 250.0
    assert clocks.entry_at({"usage": 25, "tickets": 4})[0] == 250.0
    assert clocks.entry_at({"usage": 30, "tickets": 5})[0] == 300.0
    assert clocks.entry_at({"usage": 12})[0] == 100.0
    assert clocks.entry_at({"usage": 5}) is None, "committed before any take it knows"
    assert clocks.entry_at(None)[0] == 300.0
    assert ClockHistory.from_dict(orjson.loads(orjson.dumps(clocks.to_dict()))) == clocks


def test_clock_history_is_bounded_and_unreadable_records_are_no_history() -> None:
    clocks = ClockHistory()
    for n in range(100):
        clocks.push(float(n), {"usage": n})
    assert len(clocks.entries) == 16 and clocks.entries[0][0] == 84.0
    assert ClockHistory.from_dict({"clock": [["x", {}], [1.0, "y"], [2.0, {"u": 3}]]}) == (
        ClockHistory([(2.0, {"u": 3})])
    )
    assert ClockHistory.from_dict(None).entry_at(None) is None


def test_clock_keys_land_on_their_partition_and_are_never_account_keys() -> None:
    for partitions in (1, 4, 12):
        for partition in range(partitions):
            key = clock_key(partition, partitions)
            assert partition_for(key, partitions) == partition and is_clock_key(key)
            with pytest.raises(UnicodeDecodeError):
                key.decode()


@pytest.mark.parametrize("committed", [None, 0, 3])
async def test_new_owner_applies_no_input_twice_however_far_the_old_one_got(
    committed: int | None,
) -> None:
    """The old owner gets through the whole history (past a midnight, hundreds
    of inputs per busy account) before the new owner re-reads it from the
    commit: far more than the ``RECENT_IDS`` inputs the id check remembers.
    Every re-read input is one its account's stored state already holds
    (each record carries the read position it was written at), so none is
    applied twice and the outputs are the uninterrupted run's."""
    batches = fastpath_batches(800, 300)
    expected = await _uninterrupted(batches)

    outputs, _table = await _handed_over(
        batches, -1 if committed is None else committed, len(batches) - 1
    )

    got = _by_id(outputs)
    differing = sorted(i for i in expected.keys() & got.keys() if expected[i] != got[i])
    assert not differing, f"{len(differing)} outputs differ: {_fields(expected, got, differing)}"
    assert got.keys() - expected.keys() == set(), "outputs the uninterrupted run has not"
    assert expected.keys() - got.keys() == set(), "outputs lost in the hand-over"
