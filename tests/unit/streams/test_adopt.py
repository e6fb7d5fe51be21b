"""After a restart, the live tick reaches partitions that send nothing: the
worker restores every partition it owns (``Runtime.adopt``), not only those a
batch arrives for, each with the clock of where it starts reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faust.exceptions import ConsumerNotStarted
from faust.types import TP

from schemas import topics
from streams.domain.events import UsageEvent
from streams.processing.clock import clock_key
from streams.processing.ingest import Accepted
from streams.processing.partitioning import partition_for
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.worker.ownership import owned_inputs, owned_starts

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
PARTITIONS = 4
ACCOUNTS = ("acme", "globex", "initech", "umbrella")


def _persist(runtime: Runtime, table: dict[bytes, Any]) -> None:
    for slot in runtime.take_dirty():
        stored = runtime.stored_form(*slot)
        assert stored is not None
        table[stored[0]] = stored[1]


def _worked(table: dict[bytes, Any]) -> Runtime:
    """A worker that saw a week of daily logins of every account, persisting daily."""
    runtime = Runtime(load_rules(), PARTITIONS, table)
    for day in range(7):
        at = T0 + timedelta(days=day)
        events = [
            UsageEvent(id=f"{a}-{day}", account_id=a, kind="login", at=at, user_id="u1")
            for a in ACCOUNTS
        ]
        runtime.read(
            {(topics.USAGE, partition_for(a, PARTITIONS)): (day, day + 1) for a in ACCOUNTS}
        )
        runtime.process(Accepted(partition_for(e.account_id, PARTITIONS), e, None) for e in events)
        _persist(runtime, table)
    return runtime


def _emitted(runtime: Runtime, now: datetime) -> list[tuple[str, bytes, bytes]]:
    return sorted((o.topic, o.key, o.value) for o in runtime.tick(now.timestamp()))


def test_a_restarted_worker_ticks_partitions_no_batch_came_for() -> None:
    table: dict[bytes, Any] = {}
    uninterrupted = _worked(table)
    now = T0 + timedelta(days=30)
    expected = _emitted(uninterrupted, now)
    assert {key for topic, key, _ in expected if topic == topics.HEALTH} == {
        a.encode() for a in ACCOUNTS
    }, "a month of silence must move every account's score"
    assert any(topic == topics.ALERTS for topic, _, _ in expected)

    restarted = Runtime(load_rules(), PARTITIONS, table)
    assert _emitted(restarted, now) == [], "the gap: no batch, no engine, no tick"

    owned = {p: {topics.USAGE: 7} for p in range(PARTITIONS)}
    assert sorted(restarted.adopt(owned)) == list(range(PARTITIONS))
    assert _emitted(restarted, now) == expected


def test_adopt_keeps_held_engines_and_restores_the_clock_of_the_starts() -> None:
    table: dict[bytes, Any] = {}
    _worked(table)
    runtime = Runtime(load_rules(), PARTITIONS, table)
    acme = partition_for("acme", PARTITIONS)
    held = runtime.engine(acme)
    others = [p for p in range(PARTITIONS) if p != acme]

    adopted = runtime.adopt({p: {topics.USAGE: 3} for p in range(PARTITIONS)})

    assert sorted(adopted) == others
    assert runtime.engines[acme] is held
    for partition in {partition_for(a, PARTITIONS) for a in ACCOUNTS} - {acme}:
        # The take written after day 2 (read position 3), not the last one.
        assert runtime.engines[partition].watermark_s == (T0 + timedelta(days=2)).timestamp()
    assert runtime.adopt({p: {topics.USAGE: 3} for p in range(PARTITIONS)}) == []


def test_an_adopted_partition_clock_record_carries_where_it_starts() -> None:
    runtime = Runtime(load_rules(), PARTITIONS, {})
    runtime.adopt({1: {topics.USAGE: 40, topics.TICKETS: 5}})
    runtime.tick((T0 + timedelta(days=1)).timestamp())

    stored = dict(runtime.stored_form(*slot) for slot in runtime.take_dirty())  # type: ignore[misc]

    clock = stored[clock_key(1, PARTITIONS)]["clock"]
    assert clock == [[(T0 + timedelta(days=1)).timestamp(), {topics.USAGE: 40, topics.TICKETS: 5}]]


def _tp(topic: str, partition: int) -> TP:
    return TP(topic, partition)


def test_owned_starts_are_the_committed_offsets_of_input_partitions() -> None:
    usage0, tickets0, usage1 = _tp(topics.USAGE, 0), _tp(topics.TICKETS, 0), _tp(topics.USAGE, 1)
    changelog = _tp("healthscore-accounts-changelog", 2)
    committed = {usage0: 120, tickets0: None, changelog: 9}

    owned = owned_starts([usage0, tickets0, usage1, changelog], committed, topics.INPUT_TOPICS)

    # Nothing committed (None, or no entry) reads from the beginning.
    assert owned == {0: {topics.USAGE: 120, topics.TICKETS: 0}, 1: {topics.USAGE: 0}}


class _Consumer:
    def __init__(self, app: _App, assigned: set[Any] | None) -> None:
        self._app, self._assigned = app, assigned
        self._committed_offset = {a: 7 for a in assigned or ()}
        self.rebalance_during_read = False

    def assignment(self) -> set[Any]:
        if self._assigned is None:
            raise ConsumerNotStarted()
        if self.rebalance_during_read:
            self._app.rebalancing_count += 1
        return self._assigned


class _App:
    def __init__(self, assigned: set[Any] | None) -> None:
        self.rebalancing = False
        self.rebalancing_count = 1
        self.consumer = _Consumer(self, assigned)


def test_owned_inputs_reads_the_settled_assignment() -> None:
    app = _App({_tp(topics.USAGE, 3)})
    assert owned_inputs(app, topics.INPUT_TOPICS) == {3: {topics.USAGE: 7}}


@pytest.mark.parametrize("case", ["rebalancing", "rebalanced during the read", "not started"])
def test_owned_inputs_is_empty_until_the_assignment_settles(case: str) -> None:
    app = _App(None if case == "not started" else {_tp(topics.USAGE, 3)})
    app.rebalancing = case == "rebalancing"
    app.consumer.rebalance_during_read = case == "rebalanced during the read"
    assert owned_inputs(app, topics.INPUT_TOPICS) == {}
