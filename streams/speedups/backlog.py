"""Whether the broker still has records of an input partition that the fast
path has not been handed yet: the question event-time alignment asks
(``streams.processing.align``) before it applies an input that a lagging
sibling partition could still precede.

Two places hold such records: the broker itself (aiokafka's fetch position
is below the high-water mark of the partition's last fetch response; or no
fetch response came yet), and the rest of the fetch being handed over in
chunks (``Fetched.upcoming``: aiokafka moved the position past records the
divert loop has not handed over yet). Both are read without a call to the
consumer's thread: plain attributes of aiokafka's partition state.
"""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

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

    def behind(topic: str, partition: int) -> bool:
        if (topic, partition) in upcoming:
            return True
        if assignment is None:
            return False
        state = assignment.state_value(TopicPartition(topic, partition))
        if state is None:
            return False  # not assigned here
        if state.highwater is None or not state.has_valid_position:
            return True  # no fetch response yet: unknown, so wait for it
        return bool(state.position < state.highwater)

    return behind
