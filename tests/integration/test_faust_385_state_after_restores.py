"""Faust failure mode faust-streaming #385: windowed state that grows after
each recovery (entries restored and then added again), so memory and the
changelog creep up with every restart.

Here the state is restored twice, each time with every input read again
- the worst a restore can meet: a new owner re-reads everything since the
last commit, which after a crash is up to three persist intervals. The
re-read inputs are already in the restored records; ``streams.processing.
reread`` (records stamped with the read position they hold) and the per-account
duplicate check must keep them from being applied again. After each
restore the table must hold the same keys and every account's record the
same bytes as after the first, uninterrupted run; the partition clock
records must stay within their bound (``streams.processing.clock.HISTORY``).

Apache Kafka, a broker of its own: every input of it is this test's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.simulator import Simulation
from services.stack.topics import ensure_topics
from streams.processing.clock import HISTORY, is_clock_key
from tests.integration.faust_modes import latest_values, rewind, wait_committed
from tests.integration.kafka_io import produce
from tests.integration.replaying import HISTORY_END
from tests.integration.worker_process import running_worker

PARTITIONS = 4
INPUTS = list(topics.INPUT_TOPICS)


@pytest.mark.timeout(300)
async def test_restoring_twice_leaves_every_account_record_as_it_was(
    fresh_apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, group = fresh_apache_kafka_bootstrap, unique_name("f385")
    changelog = f"{group}-accounts-changelog"
    await ensure_topics(bootstrap, PARTITIONS)
    sim = Simulation.create(accounts=200, days=4, seed=385, end=HISTORY_END)
    await produce(bootstrap, list(sim.events()))
    env = {"HEALTHSCORE_PARTITIONS": str(PARTITIONS), "HEALTHSCORE_PERSIST_SECONDS": "1"}

    snapshots: list[dict[bytes, bytes]] = []
    for run in range(3):
        if run:
            await rewind(bootstrap, group, INPUTS, PARTITIONS)
        with running_worker(bootstrap, group, tmp_path / f"run{run}", **env) as log:
            done = await wait_committed(bootstrap, group, INPUTS, PARTITIONS, timeout=120)
            assert done, f"run {run} never caught up: " + log.read_text(errors="replace")[-2000:]
        snapshots.append(await latest_values(bootstrap, changelog, PARTITIONS))

    first = {k: v for k, v in snapshots[0].items() if not is_clock_key(k)}
    assert len(first) == 200, "every account has a record"
    for run, snapshot in enumerate(snapshots[1:], start=1):
        accounts = {k: v for k, v in snapshot.items() if not is_clock_key(k)}
        assert accounts.keys() == first.keys(), f"restore {run}: the table's keys changed"
        grown = {k: (len(first[k]), len(v)) for k, v in accounts.items() if len(v) > len(first[k])}
        assert not grown, (
            f"restore {run}: {len(grown)} records grew, e.g. {list(grown.items())[:3]}"
        )
        # Every byte: the read position stamped (``streams.processing.reread``)
        # and the dunning watermark, which a restored clock ahead of the inputs
        # read again moves later (``Runtime.take_dirty``), included.
        changed = {k: _difference(first[k], v) for k, v in accounts.items() if v != first[k]}
        example = list(changed.items())[:2]
        assert not changed, f"restore {run}: {len(changed)} changed, e.g. {example}"
        clocks = [orjson.loads(v)["clock"] for k, v in snapshot.items() if is_clock_key(k)]
        assert clocks and all(len(entries) <= HISTORY for entries in clocks)
    sizes = [sum(map(len, s.values())) for s in snapshots]
    print(f"table bytes after the run and each restore: {sizes}")


def _difference(before: bytes, after: bytes) -> dict[str, tuple[object, object]]:
    """The dunning fields that differ between two stored records, or the
    whole record's parts when a part other than the dunning one differs."""
    a, b = orjson.loads(before), orjson.loads(after)
    parts = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    if parts != {"d"}:
        return {k: (a.get(k), b.get(k)) for k in parts}
    da, db = a["d"], b["d"]
    return {k: (da.get(k), db.get(k)) for k in set(da) | set(db) if da.get(k) != db.get(k)}
