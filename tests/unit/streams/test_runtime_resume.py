"""A partition restored by a batch that reads some of its input topics takes
the clock entry that goes with where *every* topic is read from: the batch's
offsets, and for the other topics the committed ones (``Runtime.resume``).
From the batch's topics alone, a newer entry whose other positions are past
where those topics are read again was taken: their re-read inputs settled at
a later clock than the first time."""

from __future__ import annotations

from typing import Any

from schemas.topics import TICKETS, USAGE
from streams.processing.clock import ClockHistory, clock_key
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime

PARTITIONS = 4
PARTITION = 1


def _runtime(resume: dict[str, int] | None) -> Runtime:
    clocks = ClockHistory([(1000.0, {USAGE: 10, TICKETS: 5}), (2000.0, {USAGE: 10, TICKETS: 9})])
    table: dict[bytes, Any] = {clock_key(PARTITION, PARTITIONS): clocks.to_dict()}
    runtime = Runtime(load_rules(), PARTITIONS, table)
    if resume is not None:
        runtime.resume = lambda: {PARTITION: resume}
    return runtime


def test_the_clock_goes_with_where_every_topic_is_read_from() -> None:
    runtime = _runtime({USAGE: 10, TICKETS: 5})
    runtime.read({(USAGE, PARTITION): (10, 12)})  # the first batch: usage only
    assert runtime.engines[PARTITION].watermark_s == 1000.0


def test_without_resume_only_the_batch_topics_bound_the_clock() -> None:
    runtime = _runtime(None)
    runtime.read({(USAGE, PARTITION): (10, 12)})
    assert runtime.engines[PARTITION].watermark_s == 2000.0
