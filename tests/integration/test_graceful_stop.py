"""A worker stopped while inputs flow (a deploy, a scale-in: SIGTERM) writes
its state, acks and commits its last batches, and exits by itself.

The fast path acks a batch only once the state it changed is written, in
slices or from its idle timer. At shutdown Faust waits for every in-flight
message to be acked, and the idle timer took no persist there: the worker
used to wait until it was killed (here after 20 s), its last batches
uncommitted, to be read again by the next owner. ``streams.worker.app.App`` runs
``FastIngest.drain`` before that wait. Real worker, Apache Kafka (the test restores nothing, but
shares the contract topics with none)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.replaying import PARTITIONS, usage_history
from tests.integration.worker_process import running_worker


@pytest.mark.timeout(240)
async def test_a_worker_stopped_mid_stream_acks_its_batches_and_exits(
    fresh_apache_kafka_bootstrap: str, tmp_path: Path
) -> None:
    events = usage_history(seed=5)
    bootstrap = fresh_apache_kafka_bootstrap
    await ensure_topics(bootstrap, PARTITIONS)
    exits: list[int] = []
    with running_worker(
        bootstrap,
        "graceful-stop",
        tmp_path,
        exits=exits,
        level="info",  # the drain's log line
        HEALTHSCORE_PERSIST_SECONDS="600",
    ) as log:
        await produce(bootstrap, events[:2000])
        await read_until(bootstrap, topics.HEALTH, done=lambda kept: len(kept) > 0, timeout=90)
        for start in range(2000, len(events), 500):  # still flowing when it is stopped
            await produce(bootstrap, events[start : start + 500])
            await asyncio.sleep(0.05)
    text = log.read_text()
    assert exits == [0], f"exit code {exits}: killed ({-signal.SIGKILL}) after waiting for acks"
    assert "wait_empty" not in text, "Faust waited for batches never acked"
    assert '"reason": "drain"' in text, "stopped with no batch in flight: nothing was tested"
