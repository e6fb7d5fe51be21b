"""Faust failure mode faust-streaming #432 (and #74): a table recovery that
never ends. The worker stays up, heartbeating and owning its partitions,
and consumes nothing, with no error.

A real never-ending recovery: a changelog whose last offset is a transaction
marker (here: one record copied onto it by a transactional producer, as an
exactly-once writer leaves it). Faust (0.15.3) waits for a record at the
high-water mark minus one, which a marker never delivers. Our guard
(``streams.worker.recovery``): every recovery is measured (the log line
"table recovery finished" and ``healthscore_table_recovery_seconds``), and
one still running after ``HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS`` stops the
worker with an error, to be restarted where an operator sees it.

The first worker builds the state; a second restores it from the changelog
(memory store: every start is a restore) and must report its recovery and
score on; a third meets the marker and must stop within its bound."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas import topics
from services.stack.process import free_port
from services.stack.topics import ensure_topics
from tests.integration.faust_modes import logins, samples
from tests.integration.kafka_io import produce, read_until
from tests.integration.worker_process import running_worker, start_worker, stop_worker

PARTITIONS = 4
BOUND_S = 6.0


async def _recovery_seconds(port: int, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await samples(port, "healthscore_table_recovery_seconds")
        if found and found[0][1]:
            return found[0][1]
        await asyncio.sleep(0.5)
    return None


def _recovered(log: Path) -> list[float]:
    """The seconds of every "table recovery finished" line."""
    lines = [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]
    return [line["seconds"] for line in lines if line.get("event") == "table recovery finished"]


@pytest.mark.timeout(240)
async def test_recovery_is_measured_and_one_that_never_ends_stops_the_worker(
    apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, group = apache_kafka_bootstrap, unique_name("f432")
    changelog = f"{group}-accounts-changelog"
    await ensure_topics(bootstrap, PARTITIONS)
    first, later = unique_name("acct"), unique_name("later")
    await produce(bootstrap, logins(first, range(2, 6)))
    env = {"HEALTHSCORE_PARTITIONS": str(PARTITIONS), "HEALTHSCORE_PERSIST_SECONDS": "1",
           "HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS": str(BOUND_S)}  # fmt: skip
    with running_worker(bootstrap, group, tmp_path / "a", level="info", **env):
        await read_until(
            bootstrap, changelog, done=lambda kept: any(r.key == first.encode() for r in kept),
            timeout=90,
        )  # fmt: skip

    port = free_port()
    with running_worker(
        bootstrap, group, tmp_path / "b", level="info",
        HEALTHSCORE_WORKER_METRICS_PORT=str(port), **env,
    ) as log:  # fmt: skip
        measured = await _recovery_seconds(port, timeout=90)
        await produce(bootstrap, logins(later, range(2, 4)))
        scored = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == later.encode(), timeout=60,
        )  # fmt: skip
    assert measured is not None and measured > 0, "recovery not reported in /metrics"
    assert _recovered(log), "no 'table recovery finished' line"
    assert scored, "the restored worker did not go on scoring"
    print(f"recovery from the changelog: {measured:.3f} s")

    state = await read_until(bootstrap, changelog, done=lambda kept: len(kept) >= 1, timeout=30)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=group)
    await producer.start()
    try:
        async with producer.transaction():
            record = state[-1]
            await producer.send(changelog, record.value, key=record.key, partition=record.partition)
    finally:
        await producer.stop()

    started = time.monotonic()
    worker = start_worker(bootstrap, group, tmp_path / "c", level="info", **env)
    try:
        code = worker.wait(timeout=BOUND_S + 60)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        stop_worker(worker)
    took = time.monotonic() - started
    log_c = (tmp_path / "c" / "worker.log").read_text(errors="replace")
    assert code not in (None, 0), f"a recovery that never ends kept the worker up {took:.0f} s"
    assert "table recovery over its bound" in log_c, log_c[-2000:]
    print(f"stopped {took:.1f} s after start, bound {BOUND_S} s")
