"""A partition's high-water mark is only as new as its last fetch response
(``streams.speedups.backlog``). aiokafka leaves a partition out of its fetch
requests while records of it are buffered, so one ``getmany`` can hand over
a partition's records from an older response with a sibling's from a newer
one, fetched after more records were appended to the first: at the old
high-water mark it looked caught up, and the sibling's later inputs were
applied before the ones still at the broker (``test_rebalance`` saw health
records stamped hours late, live). Stand-in aiokafka state, no broker."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
from aiokafka import TopicPartition

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.processing.align import Aligner, Behind
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from streams.speedups.backlog import broker_behind
from streams.speedups.fetched import Fetched
from tests.unit.streams.fastpath_support import PARTITIONS, Sink, Store

TICKETS, USAGE = topics.TICKETS, topics.USAGE
ACCOUNT = "acct-00001"
P = partition_for(ACCOUNT.encode(), PARTITIONS)


@dataclass
class State:
    """aiokafka's ``TopicPartitionState``: what the last fetch response said, when."""

    position: int
    highwater: int
    timestamp: int  # ms, when the response was handled
    has_valid_position: bool = True


class Consumer:
    """Faust's consumer down to aiokafka's partition states and cluster metadata."""

    def __init__(self, leaders: dict[str, int] | None = None) -> None:
        self.states: dict[TopicPartition, State] = {}
        self.leaders = leaders or {}
        assignment = SimpleNamespace(state_value=self.states.get)
        cluster = SimpleNamespace(leader_for_partition=lambda tp: self.leaders.get(tp.topic, 1))
        self._thread = SimpleNamespace(
            _consumer=SimpleNamespace(
                _subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment)),
                _client=SimpleNamespace(cluster=cluster),
            )
        )

    def caught_up(self, at_ms: int, **offsets: int) -> None:
        """Every input partition of ``P`` as a fetch response at ``at_ms`` left it
        (``offsets``: next offset per topic, by its short name; others 0)."""
        for topic in INPUT_TOPICS:
            offset = offsets.get(topic.split(".")[1], 0)
            self.states[TopicPartition(topic, P)] = State(offset, offset, at_ms)

    def behind(self) -> Behind:
        return broker_behind(self, Fetched())


def test_a_partition_caught_up_as_of_an_older_response_than_a_siblings_is_behind() -> None:
    consumer = Consumer()
    consumer.caught_up(1007, usage=4849, tickets=68)
    consumer.states[TopicPartition(TICKETS, P)].timestamp = 1000  # left out since
    behind = consumer.behind()
    assert behind(TICKETS, P)
    assert not behind(USAGE, P)


def test_partitions_caught_up_as_of_the_same_response_are_not_behind() -> None:
    consumer = Consumer()
    consumer.caught_up(1007, usage=4849, tickets=68)
    behind = consumer.behind()
    assert not any(behind(topic, P) for topic in INPUT_TOPICS)


def test_a_newer_response_from_another_broker_does_not_count() -> None:
    """Each broker answers on its own schedule: compared across brokers, one
    partition would always look older, and hold its siblings for good."""
    consumer = Consumer(leaders={USAGE: 2})
    consumer.caught_up(1000, usage=4849, tickets=68)
    consumer.states[TopicPartition(USAGE, P)].timestamp = 1007  # broker 2's response
    assert not consumer.behind()(TICKETS, P)


def _event(topic: str, offset: int, n: int, at: str) -> RawMessage:
    kind = {TICKETS: {"type": "ticket_opened", "ticket_id": f"T-{n}", "priority": "urgent"},
            USAGE: {"type": "login", "user_id": "u1"}}[topic]  # fmt: skip
    value = {"id": f"e{n}", "account_id": ACCOUNT, "time": f"2026-11-22T{at}:00Z", **kind}
    return RawMessage(topic, P, offset, ACCOUNT.encode(), orjson.dumps(value))


def _pipeline() -> tuple[Pipeline, Sink]:
    sink = Sink()
    runtime = Runtime(load_rules(), PARTITIONS, {})
    limit = DeadLetterLimit(max_ratio=1.0)
    return Pipeline(runtime, sink, Store(), limit, aligner=Aligner(INPUT_TOPICS)), sink


def _health(sink: Sink) -> list[Any]:
    values = [orjson.loads(r[2]) for r in sink.records if r[0] == topics.HEALTH]
    return [(v["id"], v["data"]["as_of"], v["data"]["score"]) for v in values]


async def test_inputs_come_out_in_event_time_order_across_fetch_responses() -> None:
    """The live case step by step: tickets at 02:00 comes in one response and
    is handed over with a login at 06:00 from the next, which was fetched
    after a ticket at 03:00 reached the broker; that ticket comes with the
    next fetch. Health records must be those of the three in time order."""
    first, late = _event(TICKETS, 67, 1, "02:00"), _event(TICKETS, 68, 2, "03:00")
    later = _event(USAGE, 4848, 3, "06:00")
    in_order, expected = _pipeline()
    await in_order.handle([first, late, later], persist=False)

    consumer = Consumer()
    pipeline, sink = _pipeline()
    consumer.caught_up(1007, usage=4849, tickets=68)
    consumer.states[TopicPartition(TICKETS, P)].timestamp = 1000  # from the older response
    await pipeline.handle([first, later], persist=False, behind=consumer.behind())
    consumer.caught_up(1010, usage=4849, tickets=69)  # the next response, and its record
    await pipeline.handle([late], persist=False, behind=consumer.behind())
    assert _health(expected)
    assert _health(sink) == _health(expected)
