"""Faust failure mode faust-streaming #93: a rebalance can leave a worker with
no partitions. With more workers than partitions that is by design, and the
idle worker must then stay a healthy standby: up, answering its readiness
probe (Faust's web root, ``deploy/k8s/worker.yaml``), and ready to take the
partitions over - restoring their state from the changelog - when their owner leaves.

One input partition per topic, two workers of one group: the one that got
the partitions scores; the other owns nothing and must stay up and ready
for the whole time. The owner then stops (a scale-in or a rolling restart);
the idle worker must take the partitions (restoring their state from the
changelog) and score new inputs. The idle worker is Faust's standby for the
changelog partition (one standby replica, the default), so the take-over
is a standby promoted to active; a promotion whose recovery never ends is
stopped by the recovery bound (``test_faust_432_recovery_bounded``).
Apache Kafka, a broker of its own (one partition per topic)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from schemas import topics
from services.stack.process import free_port
from services.stack.topics import ensure_topics
from tests.integration.faust_modes import gauge, logins
from tests.integration.kafka_io import produce, read_until
from tests.integration.worker_process import start_worker, stop_worker

LAG = "healthscore_consumer_lag"


async def _ready(web_port: int) -> bool:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"http://127.0.0.1:{web_port}/")).status_code == 200
    except httpx.TransportError:
        return False


async def _owner(ports: dict[str, int], timeout: float) -> str | None:
    """The worker that publishes lag for the input partitions (it owns them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owning = [name for name, port in ports.items() if await gauge(port, LAG)]
        if len(owning) == 1:
            return owning[0]
        await asyncio.sleep(0.5)
    return None


@pytest.mark.timeout(240)
async def test_a_worker_without_partitions_stays_ready_and_takes_them_over(
    fresh_apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, group = fresh_apache_kafka_bootstrap, unique_name("f93")
    await ensure_topics(bootstrap, 1)
    early, late = unique_name("early"), unique_name("late")
    await produce(bootstrap, logins(early, range(2, 6)))
    web = {name: free_port() for name in ("a", "b")}
    metrics = {name: free_port() for name in ("a", "b")}
    procs = {
        name: start_worker(
            bootstrap, group, tmp_path / name, level="info",
            HEALTHSCORE_PARTITIONS="1", HEALTHSCORE_PERSIST_SECONDS="1",
            HEALTHSCORE_LAG_INTERVAL="0.5", HEALTHSCORE_WORKER_WEB_PORT=str(web[name]),
            HEALTHSCORE_WORKER_METRICS_PORT=str(metrics[name]),
        )
        for name in ("a", "b")
    }  # fmt: skip
    exits: dict[str, int] = {}
    try:
        await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == early.encode(), timeout=90,
        )  # fmt: skip
        owner = await _owner(metrics, timeout=30)
        assert owner is not None, "no single owner of the partitions"
        idle = "b" if owner == "a" else "a"
        idle_checks = []
        for _ in range(10):  # the idle worker over ~10 s: up, ready, owning nothing
            idle_checks.append(
                (procs[idle].poll(), await _ready(web[idle]), await gauge(metrics[idle], LAG))
            )
            await asyncio.sleep(1)
        assert idle_checks == [(None, True, {})] * 10, idle_checks

        exits[owner] = stop_worker(procs[owner])
        await produce(bootstrap, logins(late, range(2, 4)))
        taken = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == late.encode(), timeout=90,
        )  # fmt: skip
        owns_now = await gauge(metrics[idle], LAG)
        still_ready = await _ready(web[idle])
    finally:
        for name, proc in procs.items():
            if name not in exits:
                exits[name] = stop_worker(proc)
    log = (tmp_path / idle / "worker.log").read_text(errors="replace")
    assert taken, "the idle worker took the partitions but scored nothing: " + log[-2000:]
    assert owns_now.keys() == {(t, "0") for t in topics.INPUT_TOPICS}, owns_now
    assert still_ready
    assert exits == {"a": 0, "b": 0}, log[-2000:]
