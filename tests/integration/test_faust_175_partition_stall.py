"""Faust failure mode faust-streaming #175: a consumer that silently stops
making progress - no error, no crash, the group keeps its partitions - so
nothing alerts while their accounts go unscored.

Here processing stalls for real: the dead-letter topic is deleted under a
running worker, so the dead letter of one bad input on partition ``STALLED``
waits in the producer, retried until Faust's 20-minute delivery timeout, and
its input is never acked. The worker stays up and keeps serving metrics. The
stalled partition's ``healthscore_partition_stalled_seconds`` must grow while
every owned partition of another number reads 0 (nothing of theirs is waiting),
and fall back to 0 once the topic is back and the partition commits again.
``promtool test rules`` (tests/deploy/rules_test.yml) shows
HealthscorePartitionStalled firing on such a series."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas import topics
from services.stack.process import free_port
from services.stack.topics import ensure_topics
from tests.integration.faust_modes import (
    delete_topic,
    gauge,
    logins,
    not_json,
    on_partition,
    recreate_topic,
)
from tests.integration.kafka_io import produce
from tests.integration.worker_process import running_worker

PARTITIONS = 4
STALLED = 2
METRIC = "healthscore_partition_stalled_seconds"


async def _until(
    port: int, done: Callable[[dict[tuple[str, str], float]], bool], timeout: float
) -> dict[tuple[str, str], float]:
    """The gauge's samples once ``done`` holds for them, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    samples = await gauge(port, METRIC)
    while not done(samples) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        samples = await gauge(port, METRIC)
    return samples


@pytest.mark.timeout(240)
async def test_a_stalled_partition_shows_in_its_stalled_seconds_and_recovers(
    fresh_apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, port = fresh_apache_kafka_bootstrap, free_port()
    await ensure_topics(bootstrap, PARTITIONS)
    account = on_partition(unique_name("stall"), STALLED, PARTITIONS)
    stalled = (topics.USAGE, str(STALLED))
    # One dead letter first: the worker's producer learns the topic's partitions.
    await produce(bootstrap, [not_json(account, 100), *logins(account, range(2, 6))])
    env = {
        "HEALTHSCORE_WORKER_METRICS_PORT": str(port),
        "HEALTHSCORE_LAG_INTERVAL": "0.5",
        "HEALTHSCORE_PERSIST_SECONDS": "1",
        "HEALTHSCORE_PARTITIONS": str(PARTITIONS),
    }
    with running_worker(bootstrap, unique_name("f175"), tmp_path / "w", **env) as log:
        caught_up = await _until(
            port, lambda s: len(s) == PARTITIONS * len(topics.INPUT_TOPICS), timeout=90
        )
        assert stalled in caught_up, log.read_text(errors="replace")[-2000:]
        await delete_topic(bootstrap, topics.DEADLETTER)
        try:
            await produce(bootstrap, [not_json(account, 100), *logins(account, range(6, 9))])
            first = await _until(port, lambda s: s.get(stalled, 0) >= 5, timeout=60)
            await asyncio.sleep(2)
            later = await gauge(port, METRIC)
        finally:
            await recreate_topic(bootstrap, topics.DEADLETTER, PARTITIONS)
        recovered = await _until(port, lambda s: s.get(stalled) == 0, timeout=60)
        worker_log = log.read_text(errors="replace")

    assert first.get(stalled, 0) >= 5, f"no stall seen: {first}\n{worker_log[-2000:]}"
    assert later[stalled] > first[stalled], "the stalled partition's count stopped growing"
    others = {k: v for k, v in later.items() if k[1] != str(STALLED) and v}
    assert others == {}, "partitions with nothing stuck read as stalled"
    assert recovered.get(stalled) == 0, f"never recovered: {recovered}"
