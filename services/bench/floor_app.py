"""The floor: healthscore's worker with its domain replaced by a lookup.

Why it exists: the worker's CPU per event splits into the domain (state,
score, explanation, alerts, dunning: ``PartitionEngine``) and everything
around it (Faust's consumer loop, decode, persist, changelog and output
sends, offsets, metrics). Profiles spread both thinly over hundreds of
functions; this measures the split directly. The floor worker is the real
worker - same module, settings, GC setup and topics - except that its engine
looks each event's outputs up in an oracle instead of computing them, so what
it costs per event is what any domain, however fast, would leave.

The oracle is computed before the run by the real engine (``build_oracle``):
for each input id, the decisions the engine returns for it when the feed is
replayed one event at a time, and each account's stored record at the end.
The floor engine advances the clock, marks the account dirty and returns the
oracle's decisions for the event's id, which the runtime encodes as it does
the real engine's; the persist writes the oracle's record for each dirty
account. Output volume and record sizes are therefore the real run's.

Not a way to run healthscore. ``healthscore bench`` runs it as its
``floor`` contender (``OracleStore`` makes its input), and
``bench/profile_worker.py --floor`` alternates it with the real worker. Run
directly as ``python -m services.bench.floor_main worker`` with the worker's
env plus ``HEALTHSCORE_BENCH_ORACLE`` (the pickle ``write_oracle`` made).
"""

from __future__ import annotations

import os
import pickle
import runpy
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from schemas.errors import InvalidEventError
from services.bench.produce import bench_history
from services.replay import replay_events
from services.simulator import EventFeed
from streams.domain.account import Account, Decision
from streams.domain.dunning.policy import DunningPolicies
from streams.domain.events import DomainEvent
from streams.domain.scoring.model import ScoringModel
from streams.processing.decode import decode_domain
from streams.processing.engine import EVENT_ORDER, PartitionEngine, StepCounts
from streams.processing.rules import Rules

ORACLE_ENV = "HEALTHSCORE_BENCH_ORACLE"


@dataclass
class Oracle:
    """What the real engine emitted per input id, and each account's last record."""

    outputs: dict[str, list[Decision]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def emitted(self) -> int:
        return sum(len(records) for records in self.outputs.values())


def build_oracle(
    events: Iterable[DomainEvent],
    rules: Rules,
    partitions: int,
    on_progress: Callable[[int], None] | None = None,
) -> Oracle:
    """Replay ``events`` through the real engines, one event per step, and keep
    what each step emitted (under its input id: a repeated id is a duplicate,
    which emits nothing) and every account's record at the end.
    ``on_progress(done)`` is called every 10,000 events (minutes at 1M)."""
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(partitions)}
    oracle = Oracle()
    for done, event in enumerate(events, 1):
        if on_progress is not None and done % 10_000 == 0:
            on_progress(done)
        emitted = replay_events(iter((event,)), engines, partitions)
        if event.id not in oracle.outputs:
            oracle.outputs[event.id] = emitted
    for engine in engines.values():
        for account_id in engine.accounts:
            oracle.records[account_id] = engine.record(account_id)
    return oracle


def feed_events(feed: EventFeed) -> Iterator[DomainEvent]:
    """A simulated feed as the worker decodes it (invalid messages skipped, as
    the worker dead-letters them)."""
    while batch := feed.take(1_000, 0):
        for topic, _key, value in batch:
            try:
                yield decode_domain(topic, value)
            except InvalidEventError:
                continue


def write_oracle(oracle: Oracle, path: Path) -> None:
    path.write_bytes(pickle.dumps(oracle, protocol=pickle.HIGHEST_PROTOCOL))


def read_oracle(path: Path) -> Oracle:
    """The bench's own file, written by ``write_oracle`` in the same run."""
    oracle = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, same run
    if not isinstance(oracle, Oracle):
        raise TypeError(f"{path} does not hold an Oracle")
    return oracle


class OracleStore:
    """The floor's oracles for one bench run, by history end, in a temporary
    directory: both brokers, benched on the same day's history (it ends at
    the noon before the run), share one, computed once (~2 minutes at 1M
    events)."""

    def __init__(self, events: int, accounts: int, seed: int, partitions: int) -> None:
        self.events, self.accounts, self.seed, self.partitions = events, accounts, seed, partitions
        self._dir = tempfile.TemporaryDirectory(prefix="bench-oracle-")
        self._made: dict[int, tuple[Path, dict[str, int]]] = {}

    def get(
        self, end: int, rules: Rules, on_progress: Callable[[int], None] | None = None
    ) -> tuple[dict[str, str], dict[str, int]]:
        """The floor worker's env for the history ending at ``end``, and what its
        oracle holds (input ids, output records, accounts)."""
        if end not in self._made:
            _, feed = bench_history(self.events, self.accounts, self.seed, end, end)
            oracle = build_oracle(feed_events(feed), rules, self.partitions, on_progress)
            path = Path(self._dir.name) / f"oracle-{end}.pickle"
            write_oracle(oracle, path)
            facts = {
                "input_ids": len(oracle.outputs),
                "output_records": oracle.emitted,
                "accounts": len(oracle.records),
            }
            self._made[end] = (path, facts)
        path, facts = self._made[end]
        return {ORACLE_ENV: str(path)}, facts

    def cleanup(self) -> None:
        self._dir.cleanup()
        self._made.clear()


class FloorEngine:
    """Stands in for ``PartitionEngine`` (the runtime's part of its interface)
    with steps that cost a lookup: the clock, the dirty set and the counts move
    as in the real engine; no state, no timers. Not a subclass: the engine may
    be compiled (``streams.speedups.native``), and compiled classes take no
    interpreted subclasses unless every call on them pays for allowing it."""

    oracle: ClassVar[Oracle] = Oracle()

    def __init__(self, partition: int, model: ScoringModel, policies: DunningPolicies) -> None:
        self.partition = partition
        self.watermark_s = 0.0
        self.accounts: dict[str, Account] = {}
        self.dirty: set[str] = set()
        self.counts = StepCounts()

    def restore(
        self, stored: Iterable[tuple[str, Mapping[str, Any]]], *, clock_s: float | None = None
    ) -> None:
        for account_id, _ in stored:
            self.accounts.setdefault(account_id, Account(account_id))
        if clock_s is not None:
            self.watermark_s = max(self.watermark_s, clock_s)

    def process(
        self,
        events: Iterable[DomainEvent],
        *,
        defer_wakes: bool = False,
        held: Collection[tuple[str, str]] | None = None,
    ) -> list[Decision]:
        out: list[Decision] = []
        outputs, accounts, dirty = self.oracle.outputs, self.accounts, self.dirty
        for event in sorted(events, key=EVENT_ORDER):
            at_s = event.at.timestamp()
            if at_s > self.watermark_s:
                self.watermark_s = at_s
            account_id = event.account_id
            if account_id not in accounts:
                accounts[account_id] = Account(account_id)
            dirty.add(account_id)
            emitted = outputs.pop(event.id, None)  # popped: a repeat emits nothing
            if emitted is None:
                self.counts.duplicates += 1
            else:
                self.counts.applied += 1
                out.extend(emitted)
        return out

    def advance(self, now_s: float, *, defer_wakes: bool = False) -> list[Decision]:
        self.watermark_s = max(self.watermark_s, now_s)
        return []

    @property
    def overdue(self) -> bool:
        return False

    def fire_overdue(self, limit: int) -> list[Decision]:
        return []

    def take_failed(self) -> list[tuple[DomainEvent, str, str]]:
        """No step runs here, so none can raise."""
        return []

    def take_dirty_ids(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty

    def record(self, account_id: str) -> dict[str, Any]:
        return self.oracle.records.get(account_id, {})


def install(oracle: Oracle) -> None:
    """Make the worker's runtime build floor engines fed by ``oracle``."""
    import streams.processing.runtime

    FloorEngine.oracle = oracle
    # The runtime builds its engines from the module's name, which the floor
    # replaces: a stand-in of the same interface, not a subclass (see FloorEngine).
    vars(streams.processing.runtime)["PartitionEngine"] = FloorEngine


def main() -> None:
    install(read_oracle(Path(os.environ[ORACLE_ENV])))
    runpy.run_module("streams", run_name="__main__", alter_sys=True)
