"""Faust failure mode faust-streaming #606: an offset committed past a message
still in flight, so a crash or a failed send loses that message's work.

Our guard: an input is acked only once everything it produced was handed to
the producer, and a send that fails fails the commit (``streams.speedups.
batching``: the sink raises the failed delivery, ``fail_flush_on_lost_sends``
makes the flush before every commit raise it too). Here a dead letter is the
output that cannot be delivered: the dead-letter topic's ``max.message.bytes``
is lowered below it, so the broker rejects it for good. Inputs after it on the
same partition are scored and their outputs delivered; the group's committed
offset must still stop at the undelivered input, and once the topic takes the
record again, a restarted worker delivers it (read again, not skipped).

Apache Kafka (real per-topic limits and committed offsets); the real worker
as a subprocess."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.faust_modes import (
    committed,
    end_offsets,
    logins,
    not_json,
    on_partition,
    set_topic_config,
)
from tests.integration.kafka_io import produce, read_until
from tests.integration.worker_process import start_worker, stop_worker

PARTITIONS = 4
PARTITION = 1
#: Below the dead letter of a ``BAD_SIZE``-byte input (its payload is base64'd).
LIMIT = "1024"
BAD_SIZE = 4000


async def _committed_at(bootstrap: str, group: str, least: int, timeout: float) -> int:
    """The group's committed offset on (usage, PARTITION) once it reaches
    ``least``, or where it stands after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        offset = (await committed(bootstrap, group)).get((topics.USAGE, PARTITION), 0)
        if offset >= least or time.monotonic() > deadline:
            return offset
        await asyncio.sleep(0.5)


@pytest.mark.timeout(240)
async def test_commit_never_passes_an_input_whose_output_was_not_delivered(
    apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, group = apache_kafka_bootstrap, unique_name("f606")
    await ensure_topics(bootstrap, PARTITIONS)
    before = on_partition(unique_name("before"), PARTITION, PARTITIONS)
    poisoned = on_partition(unique_name("lost"), PARTITION, PARTITIONS)
    after = on_partition(unique_name("after"), PARTITION, PARTITIONS)
    env = {"HEALTHSCORE_PERSIST_SECONDS": "1", "HEALTHSCORE_PARTITIONS": str(PARTITIONS)}

    await produce(bootstrap, logins(before, range(2, 6)))
    worker = start_worker(bootstrap, group, tmp_path / "w", level="info", **env)
    try:
        ends = await end_offsets(bootstrap, [topics.USAGE], PARTITIONS)
        bad_offset = ends[(topics.USAGE, PARTITION)]
        # Commits work: the inputs before the fault are committed.
        assert await _committed_at(bootstrap, group, bad_offset, timeout=90) == bad_offset
        await set_topic_config(bootstrap, topics.DEADLETTER, {"max.message.bytes": LIMIT})
        await produce(bootstrap, [not_json(poisoned, BAD_SIZE), *logins(after, range(2, 6))])
        scored = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == after.encode(), timeout=60,
        )  # fmt: skip
        assert scored, "the inputs after the undeliverable one were not scored"
        # Commits would have moved on within a few persist intervals by now.
        stuck_at = await _committed_at(bootstrap, group, bad_offset + 1, timeout=10)
    finally:  # a failed send stops the worker (it has by now): restarted, it reads again
        stop_worker(worker)
        await set_topic_config(bootstrap, topics.DEADLETTER, {})  # the broker's defaults
    assert stuck_at == bad_offset, "offset committed past an input whose output was lost"

    exits: list[int] = []
    worker = start_worker(bootstrap, group, tmp_path / "w", level="info", **env)
    try:
        letters = await read_until(
            bootstrap, topics.DEADLETTER, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == poisoned.encode(), timeout=90,
        )  # fmt: skip
        moved_to = await _committed_at(bootstrap, group, bad_offset + 1, timeout=60)
    finally:
        exits.append(stop_worker(worker))
    log = (tmp_path / "w" / "worker.log").read_text(errors="replace")
    assert letters, "the undelivered dead letter was skipped, not read again: " + log[-2000:]
    assert moved_to > bad_offset
    assert exits == [0], log[-2000:]
