"""Bounded time (``streams.processing.horizon``): one event dated 2099 on one
account is dead-lettered and changes nothing else - every account's outputs
are byte-identical to a run without it - and neither a far-future event nor
a host clock jumping ahead moves a partition clock past the wall clock."""

from __future__ import annotations

from pathlib import Path

import orjson

from schemas import topics
from services.replay import ReplaySummary, read_events, replay_events
from services.simulator import Simulation
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.engine import PartitionEngine
from streams.processing.horizon import Horizon
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from tests.unit.streams.fastpath_support import PARTITIONS, Sink, Store

END = 1_790_000_000
OUTPUTS = (topics.HEALTH, topics.ALERTS, topics.DUNNING)


def history() -> list[tuple[str, bytes, bytes]]:
    return list(Simulation.create(accounts=40, days=12, seed=7, end=END).events())


def from_2099(account: bytes) -> tuple[str, bytes, bytes]:
    event = {"id": "far-future", "account_id": account.decode(), "type": "login",
             "time": "2099-01-01T00:00:00Z", "user_id": "u1"}  # fmt: skip
    return topics.USAGE, account, orjson.dumps(event)


async def outputs(records: list[tuple[str, bytes, bytes]]) -> tuple[list[bytes], list[bytes]]:
    """Run ``records`` through a pipeline, in batches of 500, whose wall clock
    is an hour past the history; return its outputs and its dead letters."""
    sink = Sink()
    pipeline = Pipeline(
        Runtime(load_rules(), PARTITIONS, {}),
        sink,  # type: ignore[arg-type]
        Store(),
        DeadLetterLimit(max_ratio=1.0),
        horizon=Horizon(wall=lambda: END + 3600.0),
    )
    messages = [
        RawMessage(topic, partition_for(key.decode(), PARTITIONS), offset, key, value)
        for offset, (topic, key, value) in enumerate(records)
    ]
    for start in range(0, len(messages), 500):
        await pipeline.handle(messages[start : start + 500])
    for engine in pipeline.runtime.engines.values():
        assert engine.watermark_s <= END + 2 * 3600
    out = [value for topic, _, value, *_ in sink.records if topic in OUTPUTS]
    letters = [value for topic, _, value, *_ in sink.records if topic == topics.DEADLETTER]
    return out, letters


def by_account(values: list[bytes]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for value in values:
        out.setdefault(orjson.loads(value)["subject"], []).append(value)
    return out


async def test_an_event_dated_2099_is_dead_lettered_and_changes_no_output() -> None:
    records = history()
    victim = records[len(records) // 3][1]
    with_it = [*records[:100], from_2099(victim), *records[100:]]

    clean, no_letters = await outputs(records)
    dirty, letters = await outputs(with_it)

    assert clean and not no_letters
    # Every account's outputs, byte for byte and in order (batches are cut
    # one message apart, so partitions interleave differently).
    assert by_account(dirty) == by_account(clean)
    [letter] = letters
    assert orjson.loads(letter)["reason"].startswith("event time 2099-01-01")


async def test_the_live_tick_never_passes_the_wall_clock_when_the_host_clock_jumps() -> None:
    wall = [float(END)]
    steady = [0.0]
    horizon = Horizon(max_future_s=3600.0, wall=lambda: wall[0], monotonic=lambda: steady[0])
    pipeline = Pipeline(
        Runtime(load_rules(), PARTITIONS, {}),
        Sink(),  # type: ignore[arg-type]
        Store(),
        DeadLetterLimit(max_ratio=1.0),
        horizon=horizon,
    )
    records = history()[:200]
    await pipeline.handle(
        [RawMessage(t, partition_for(k.decode(), PARTITIONS), i, k, v) for i, (t, k, v) in
         enumerate(records)]
    )  # fmt: skip
    steady[0] += 60.0
    wall[0] += 365 * 86_400.0  # the host clock jumps a year ahead
    await pipeline.tick()
    for engine in pipeline.runtime.engines.values():
        assert engine.watermark_s <= END + 60.0 + 3600.0


def test_replay_rejects_an_event_beyond_its_limit(tmp_path: Path) -> None:
    records = history()
    victim = records[5][1]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(v + b"\n" for _, _, v in [*records, from_2099(victim)]))
    rules = load_rules()
    summary = ReplaySummary()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(PARTITIONS)}
    limit = Horizon(wall=lambda: END + 3600.0).limit()
    replay_events(read_events(path, summary, limit), engines, PARTITIONS)
    assert summary.rejected == 1 and "2099" in summary.first_rejects[0]
    assert max(engine.watermark_s for engine in engines.values()) <= END + 3600.0
