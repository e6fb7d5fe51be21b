"""Whether the broker still has records of an input partition that the fast
path has not been handed yet: the question event-time alignment asks
(``streams.processing.align``) before it applies an input that a lagging
sibling partition could still precede.

Three places hold such records: the broker itself (aiokafka's fetch position
is below the high-water mark of the partition's last fetch response; or no
fetch response came yet), the rest of the fetch being handed over in chunks
(``Fetched.upcoming``: aiokafka moved the position past records the divert
loop has not handed over yet), and the broker again when a sibling's last
fetch response is newer than the partition's own. aiokafka leaves a partition
out of its fetch requests while records of it are buffered, so one
``getmany`` can return that partition's records from an older response
together with a sibling's from a newer one, fetched after records appended to
the partition meanwhile; its position then equals the old response's
high-water mark and it looked caught up. ``test_rebalance`` saw inputs
applied hours of event time late that way, live. Only responses from the
same broker are compared: each broker answers on its own schedule, so across
brokers one partition would always look older and hold everything. Not seen
from here: a broker reads a fetch's partitions one after another, so the
high-water marks of one response are no single snapshot (a record appended
meanwhile can be missing from one partition and a later one present in the
next); only waiting for a later response would tell (``max.task.idle.ms``).

All of it is read without a call to the consumer's thread: plain attributes
of aiokafka's partition state and cluster metadata.
"""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from schemas.topics import INPUT_TOPICS
from streams.processing.align import Behind
from streams.speedups.fetched import Fetched


def broker_behind(consumer: Any, batch: Fetched) -> Behind:
    """A ``Behind`` for Faust's consumer, as of ``batch``: the chunk being
    handled, or the last one handed over (a timer between two chunks of one
    fetch must still count the partitions of the chunks to come)."""
    upcoming = batch.upcoming
    thread = getattr(consumer, "_thread", None)
    aio = getattr(thread, "_consumer", None)
    subscription = getattr(getattr(aio, "_subscription", None), "subscription", None)
    assignment = getattr(subscription, "assignment", None)
    cluster = getattr(getattr(aio, "_client", None), "cluster", None)
    #: (leader, partition) -> when its input partitions' newest response came (ms).
    newest: dict[tuple[Any, int], int] = {}

    def leader(tp: TopicPartition) -> Any:
        return None if cluster is None else cluster.leader_for_partition(tp)

    def newest_of(assignment: Any, node: Any, partition: int) -> int:
        key = (node, partition)
        if key not in newest:
            times = [0]
            for topic in INPUT_TOPICS:
                tp = TopicPartition(topic, partition)
                state = assignment.state_value(tp)
                if state is not None and state.timestamp is not None and leader(tp) == node:
                    times.append(state.timestamp)
            newest[key] = max(times)
        return newest[key]

    def behind(topic: str, partition: int) -> bool:
        if (topic, partition) in upcoming:
            return True
        if assignment is None:
            return False
        tp = TopicPartition(topic, partition)
        state = assignment.state_value(tp)
        if state is None:
            return False  # not assigned here
        if state.highwater is None or not state.has_valid_position:
            return True  # no fetch response yet: unknown, so wait for it
        if state.position < state.highwater:
            return True
        return bool(state.timestamp < newest_of(assignment, leader(tp), partition))

    return behind
