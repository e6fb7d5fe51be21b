"""The floor worker's engine: the real engine's outputs and records, looked up.

``bench/profile_worker.py --floor`` subtracts the floor's CPU per event from
the real worker's to get the domain's share; that only holds if the floor
emits what the real engine emits (same records, same volume), persists the
same records, and the oracle it is given matches the feed the bench produced.
"""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

import pytest

import streams.processing.runtime
from services.bench import floor_app
from services.bench.floor_app import FloorEngine, Oracle, build_oracle, feed_events
from services.bench.produce import bench_history
from streams.processing.engine import PartitionEngine
from streams.processing.partitioning import partition_for
from streams.processing.rules import load_rules

NOW = 1_795_000_000.0  # any fixed wall time: the feed ends at the noon before it
RULES = load_rules(None)


def _events(events: int = 3_000, accounts: int = 300) -> list:
    _, feed = bench_history(events, accounts, 42, NOW)
    return list(feed_events(feed))


@pytest.fixture
def oracle() -> Oracle:
    return build_oracle(_events(), RULES, 2)


@pytest.fixture(autouse=True)
def _engine_class_restored():
    original, oracle = streams.processing.runtime.PartitionEngine, FloorEngine.oracle
    yield
    streams.processing.runtime.PartitionEngine, FloorEngine.oracle = original, oracle


def test_the_oracle_holds_what_the_real_engine_emits(oracle: Oracle) -> None:
    events = _events()
    engines = {p: PartitionEngine(p, RULES.model, RULES.policies) for p in range(2)}
    expected = []
    for event in events:
        expected.extend(engines[partition_for(event.account_id, 2)].process((event,)))

    assert len(oracle.outputs) == len({e.id for e in events}) == len(events)
    assert oracle.emitted == len(expected) > 1_000
    assert list(itertools.chain.from_iterable(oracle.outputs[e.id] for e in events)) == expected
    stored = {a: eng.record(a) for eng in engines.values() for a in eng.accounts}
    assert oracle.records == stored


def test_the_floor_engine_emits_and_persists_the_oracles_records(oracle: Oracle) -> None:
    events = [e for e in _events() if partition_for(e.account_id, 2) == 0]
    expected = {e.id: oracle.outputs[e.id] for e in events}
    FloorEngine.oracle = oracle
    engine = FloorEngine(0, RULES.model, RULES.policies)

    emitted = 0
    for start in range(0, len(events), 500):
        batch = events[start : start + 500][::-1]  # a poll, out of time order
        out = engine.process(batch)
        ordered = sorted(batch, key=lambda e: (e.at, e.id))
        assert out == [record for e in ordered for record in expected[e.id]]
        emitted += len(out)

    accounts = {e.account_id for e in events}
    assert emitted == sum(len(records) for records in expected.values()) > 300
    assert engine.take_dirty_ids() == accounts
    assert engine.watermark_s == max(e.at.timestamp() for e in events)
    assert (engine.counts.applied, engine.counts.duplicates) == (len(events), 0)
    assert all(engine.record(a) == oracle.records[a] for a in accounts)


def test_a_repeated_input_id_emits_nothing_again(oracle: Oracle) -> None:
    event = next(e for e in _events() if oracle.outputs[e.id])
    expected = list(oracle.outputs[event.id])
    FloorEngine.oracle = oracle
    engine = FloorEngine(0, RULES.model, RULES.policies)

    assert engine.process([event]) == expected
    assert engine.process([event]) == []
    assert (engine.counts.applied, engine.counts.duplicates) == (1, 1)


def test_the_same_feed_end_gives_the_same_input_ids() -> None:
    # The bench produces one feed and computes the oracle from a second one
    # built with the same end: their ids must agree, or every lookup misses.
    assert [e.id for e in _events()] == [e.id for e in _events()]


def test_install_makes_the_runtime_build_floor_engines(oracle: Oracle) -> None:
    floor_app.install(oracle)

    runtime = streams.processing.runtime.Runtime(RULES, 2, {})
    engine = runtime.engine(0)

    assert type(engine) is FloorEngine
    assert FloorEngine.oracle is oracle


def test_the_oracle_file_round_trips_and_refuses_other_pickles(
    oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "oracle.pickle"
    floor_app.write_oracle(oracle, path)
    assert floor_app.read_oracle(path) == oracle

    other = tmp_path / "other.pickle"
    other.write_bytes(pickle.dumps({"not": "an oracle"}))
    with pytest.raises(TypeError, match="does not hold an Oracle"):
        floor_app.read_oracle(other)
