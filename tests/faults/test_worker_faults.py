"""Worker faults on Apache Kafka, 3 partitions x 2 workers: for each, the alert
and dunning ids written equal an uninterrupted replay's - none lost, none
written with other bytes, none extra (``tests.faults.harness`` says what
may repeat and why). Each scenario writes its row of ``docs/reliability.md``.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.faults.broker import RestartableBroker
from tests.faults.conftest import PARTITIONS, History
from tests.faults.harness import COMPARED, Row, Tally, Workers, end_offsets, read_from, record_row

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Seconds a killed worker's partitions wait for the group to notice
#: (the worker's session timeout is 10 s, ``streams.worker.app``).
SESSION_S = 12.0

Scenario = Callable[[Workers, random.Random], Awaitable[float]]


async def run_fault(
    fault: str,
    history: History,
    bootstrap: str,
    tmp_path: Path,
    scenario: Scenario,
) -> Tally:
    """Run ``scenario`` (which returns the monotonic time of its last fault)
    on a new consumer group, then read what it wrote and tally it."""
    start = await end_offsets(bootstrap, COMPARED, PARTITIONS)
    workers = Workers(
        bootstrap,
        "faults-" + re.sub(r"[^a-z0-9]+", "-", fault.lower()).strip("-"),
        tmp_path,
        HEALTHSCORE_PARTITIONS=str(PARTITIONS),
    )
    want = {topic: len(history.expected[topic]) for topic in COMPARED}
    try:
        last_fault = await scenario(workers, random.Random(fault))
        written, done_at = await read_from(bootstrap, start, want, timeout=300, settle=5.0)
    finally:
        workers.stop_all()
    tally = Tally()
    for topic in COMPARED:
        tally.add(history.expected[topic], written[topic])
    (tmp_path / "differing.txt").write_text("".join(line + "\n" for line in tally.differing))
    recover = None if done_at is None else max(0.0, done_at - last_fault)
    record_row(Row(fault, history.events, history.accounts, tally, recover))
    assert (tally.lost, tally.duplicated) == (0, 0), (tally.examples, str(tmp_path))
    return tally


@pytest.mark.timeout(600)
async def test_uninterrupted_with_poison_inputs(
    fault_history: History, fault_kafka: str, tmp_path: Path
) -> None:
    """The yardstick row: two workers, no fault; the history carries inputs
    no worker may apply (``tests.faults.conftest.poison``), as in every row."""

    async def scenario(workers: Workers, rng: random.Random) -> float:
        workers.start("a")
        workers.start("b")
        return time.monotonic()

    await run_fault("none (poison inputs only)", fault_history, fault_kafka, tmp_path, scenario)


@pytest.mark.timeout(600)
async def test_kill_9_one_worker_three_times(
    fault_history: History, fault_kafka: str, tmp_path: Path
) -> None:
    async def scenario(workers: Workers, rng: random.Random) -> float:
        workers.start("a")
        workers.start("b")
        last = time.monotonic()
        for victim in ("a", "b", "a"):
            await asyncio.sleep(rng.uniform(4.0, 9.0))
            workers.kill(victim)
            last = time.monotonic()
            await asyncio.sleep(SESSION_S)  # the survivor takes the partitions over
            workers.start(victim)
        return last

    await run_fault(
        "kill -9 one of two workers, x3", fault_history, fault_kafka, tmp_path, scenario
    )


@pytest.mark.timeout(600)
async def test_clean_bounce_of_both_workers(
    fault_history: History, fault_kafka: str, tmp_path: Path
) -> None:
    async def scenario(workers: Workers, rng: random.Random) -> float:
        workers.start("a")
        workers.start("b")
        await asyncio.sleep(rng.uniform(5.0, 10.0))
        workers.stop("a")
        workers.stop("b")
        last = time.monotonic()
        workers.start("a")
        workers.start("b")
        return last

    await run_fault("clean bounce of both workers", fault_history, fault_kafka, tmp_path, scenario)


@pytest.mark.timeout(600)
async def test_scale_out_then_in(fault_history: History, fault_kafka: str, tmp_path: Path) -> None:
    async def scenario(workers: Workers, rng: random.Random) -> float:
        workers.start("a")
        await asyncio.sleep(rng.uniform(4.0, 8.0))
        workers.start("b")  # scale out: a hands partitions over
        await asyncio.sleep(rng.uniform(8.0, 12.0))
        workers.stop("a")  # scale in: b takes them all
        return time.monotonic()

    await run_fault(
        "scale out 1 -> 2, then in 2 -> 1", fault_history, fault_kafka, tmp_path, scenario
    )


@pytest.mark.timeout(600)
async def test_broker_kill_9_and_restart(
    fault_history: History, fault_broker: RestartableBroker, tmp_path: Path
) -> None:
    async def scenario(workers: Workers, rng: random.Random) -> float:
        workers.start("a")
        workers.start("b")
        await asyncio.sleep(rng.uniform(5.0, 10.0))
        fault_broker.kill_9()
        await asyncio.sleep(3.0)  # the workers lose the broker mid-batch
        await asyncio.to_thread(fault_broker.restart)
        return time.monotonic()

    await run_fault(
        "broker kill -9 and restart", fault_history, fault_broker.address, tmp_path, scenario
    )
