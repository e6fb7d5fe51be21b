"""The fault suite's pieces, modelled on Kafka's ``streams_eos_test.py``: one
simulated history produced once, workers of one consumer group started and
killed as subprocesses, the alert and dunning records they wrote read back
and compared by id with an uninterrupted ``healthscore replay`` of the same
file, and one row per fault in ``docs/reliability.md``.

What counts:
- *lost*: an id replay emits that no worker wrote;
- *duplicated*: an id written with bytes other than replay's, or an id
  replay never emits (a wrong step reaching a customer);
- *repeated*: an id written more than once with replay's exact bytes, and
  only this may repeat. A worker sends a batch's outputs at once and writes
  the state they came from later (each persist interval, once those outputs
  are delivered); offsets are committed only once that state is written. A
  worker that dies in between (kill -9, a lost host: no drain) leaves state
  and committed offsets behind the outputs it sent, and whoever takes its
  partitions reads those inputs again against that older state, with the
  clock that goes with the committed offsets (``streams.processing.clock``),
  in the same event-time order (``streams.processing.align``): it computes
  the same outputs again, the same id (derived from account, kind and cause)
  and the same bytes. A stop or a rebalance drains first (``FastIngest.
  drain``): every account is written with what it applied and its outputs
  delivered, inputs held for alignment are let go unapplied with every batch
  behind them and read again from the committed offsets, or from the start
  where none is committed (``streams.speedups.faust_patches._perform_seek``),
  and nothing fetched before the rebalance, or while it is under way, is
  applied after it (``streams.speedups.fetched.current``, ``streams.speedups.
  faust_patches.fetch_batches``); a re-read input the stored state
  holds is dropped (``streams.processing.reread``), so nothing sent is
  computed again. Reported, not counted as duplicated: a consumer
  de-duplicating by id keeps the right record.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from tests.integration.worker_process import ROOT, start_worker, stop_worker

#: The outputs compared: what reaches customers and operators.
COMPARED = (topics.ALERTS, topics.DUNNING)

TABLE = ROOT / "docs" / "reliability.md"


@dataclass
class Tally:
    expected: int = 0
    written: int = 0
    lost: int = 0
    duplicated: int = 0
    repeated: int = 0
    examples: list[str] = field(default_factory=list)
    #: Every lost, other-bytes and unexpected record in full, for tracing
    #: (``run_fault`` writes them to ``differing.txt`` in the test's directory).
    differing: list[str] = field(default_factory=list)

    def add(self, expected: Iterable[bytes], written: Iterable[bytes]) -> None:
        want = {_id(value): value for value in expected}
        seen: dict[str, Counter[bytes]] = {}
        for value in written:
            seen.setdefault(_id(value), Counter())[value] += 1
            self.written += 1
        self.expected += len(want)
        for record_id, value in want.items():
            got = seen.get(record_id)
            if got is None:
                self.lost += 1
                self._example(f"lost {record_id}")
                self.differing.append(f"LOST {value.decode()}")
                continue
            self.repeated += got[value] - 1 if got[value] else 0
            others = sum(n for v, n in got.items() if v != value)
            if others:
                self.duplicated += others
                self._example(f"different bytes for {record_id}")
                self.differing.append(f"WANT {value.decode()}")
                self.differing.extend(f"GOT  {v.decode()}" for v in got if v != value)
        extra = [record_id for record_id in seen if record_id not in want]
        self.duplicated += sum(sum(seen[r].values()) for r in extra)
        for r in extra:
            self.differing.extend(f"EXTRA {v.decode()}" for v in seen[r])
        for record_id in extra[:3]:
            self._example(f"unexpected {record_id}")

    def _example(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)


def _id(value: bytes) -> str:
    return str(orjson.loads(value)["id"])


async def end_offsets(
    bootstrap: str, names: Iterable[str], partitions: int
) -> dict[TopicPartition, int]:
    """Where each partition of ``names`` ends now: a scenario reads its
    outputs from there, so scenarios can share one broker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(name, p) for name in names for p in range(partitions)]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def read_from(
    bootstrap: str,
    start: Mapping[TopicPartition, int],
    want: Mapping[str, int],
    timeout: float,
    settle: float,
) -> tuple[dict[str, list[bytes]], float | None]:
    """Every record after ``start``, by topic, read until each topic of
    ``want`` has that many distinct ids (then ``settle`` seconds more, for
    late repeats) or ``timeout``; and when the last id came (monotonic)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: dict[str, list[bytes]] = {name: [] for name in want}
    ids: dict[str, set[str]] = {name: set() for name in want}
    completed_at: float | None = None
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if completed_at is None and all(len(ids[n]) >= c for n, c in want.items()):
                completed_at = time.monotonic()
                deadline = min(deadline, completed_at + settle)
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.value is not None and tp.topic in out:
                        out[tp.topic].append(record.value)
                        ids[tp.topic].add(_id(record.value))
    finally:
        await consumer.stop()
    return out, completed_at


class Workers:
    """Named worker subprocesses of one consumer group."""

    def __init__(self, bootstrap: str, app_id: str, base: Path, **env: str) -> None:
        self.bootstrap, self.app_id, self.base, self.env = bootstrap, app_id, base, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        self.procs[name] = start_worker(
            self.bootstrap, self.app_id, self.base / name, level="info", **self.env
        )

    def kill(self, name: str) -> None:
        """kill -9: no drain, no commit, no goodbye to the group."""
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def stop(self, name: str) -> int:
        return stop_worker(self.procs.pop(name))

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.base / name / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass(frozen=True)
class Row:
    fault: str
    events: int
    accounts: int
    tally: Tally
    recover_s: float | None

    def render(self) -> str:
        t = self.tally
        recover = "-" if self.recover_s is None else f"{self.recover_s:.1f}"
        return (
            f"| {self.fault} | {self.events:,} | {self.accounts:,} | {t.expected:,} |"
            f" {t.lost} | {t.duplicated} | {t.repeated} | {recover} |"
        )


HEADER = (
    "| fault | events | accounts | alert + dunning ids | lost | duplicated | repeated"
    " (same bytes) | time to recover (s) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|"
)

_ROW = re.compile(r"^\| (?P<fault>[^|]+?) \|")


def record_row(row: Row, table: Path = TABLE) -> None:
    """Put ``row`` in the table (replacing that fault's row), keeping the rest."""
    text = table.read_text() if table.exists() else ""
    head, sep, _ = text.partition("<!-- fault-suite table -->")
    rows: dict[str, str] = {}
    if sep:
        for line in text.split(sep, 1)[1].splitlines():
            match = _ROW.match(line)
            if match and not line.startswith(("| fault ", "|---")):
                rows[match["fault"]] = line
    rows[row.fault] = row.render()
    body = "\n".join([HEADER, *rows.values()])
    table.write_text((head if sep else _INTRO) + "<!-- fault-suite table -->\n" + body + "\n")


_INTRO = """# Reliability: the fault suite's results

Written by `make test-faults` (`tests/faults/`), not by hand: each fault's row
is replaced when its test runs. Every row compares the alert and dunning
records the workers wrote with an uninterrupted `healthscore replay` of the
same history, by id. *lost*: an id replay emits that no worker wrote.
*duplicated*: an id written with other bytes than replay's, or one replay never
emits. *repeated*: an id written again with replay's exact bytes, the only
repeat there may be. It comes from a worker that dies (kill -9, a lost host)
after sending a batch's outputs and before writing the state that includes
them (state is written each persist interval, once those outputs are
delivered; offsets are committed once it is written): whoever takes its
partitions reads those inputs again from the last commit, against that older
state, with the clock that goes with the committed offsets and in the same
event-time order, and computes the same records, so a consumer keeping one
record per id keeps the right one. A stop or a rebalance drains first (every
account written, inputs held for alignment let go unapplied and read again
from the committed offsets, nothing fetched before the rebalance or during it
applied after it) and repeats nothing. *time to recover*: from the fault to the last
expected id written.

"""
