"""Consumer lag per input partition, from what the worker's own consumer knows.

Lag is computed inside the worker rather than by an external exporter so that
``make run`` and a plain deployment get it with no extra process: the
consumer already holds each assigned partition's high-water mark (returned
with every fetch) and the offsets it committed. Lag = high-water mark minus
committed offset, both "next offset" numbers, so a caught-up partition reads 0.

Tansu reports high-water marks short (see ``services/stack/tansu.py``): on it
this gauge under-reads; Apache Kafka gives the true value.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from prometheus_client import Gauge


class PartitionKey(NamedTuple):
    topic: str
    partition: int


class TopicPartition(Protocol):
    """Any (topic, partition) pair: Faust's ``TP``, aiokafka's ``TopicPartition``."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...


def consumer_lag(
    assigned: Iterable[TopicPartition],
    highwater: Callable[[Any], int | None],
    committed: Mapping[Any, int | None],
    topics: Collection[str],
) -> dict[PartitionKey, int]:
    """Lag of every assigned partition of ``topics`` whose high-water mark is known.

    A partition with no committed offset yet counts from offset 0: a new group
    reading history from the beginning is behind by all of it.
    Never negative (a commit can be newer than the last fetched high-water mark).
    """
    lag: dict[PartitionKey, int] = {}
    for tp in assigned:
        if tp.topic not in topics:
            continue
        end = highwater(tp)
        if end is None:
            continue
        done = committed.get(tp)
        lag[PartitionKey(tp.topic, tp.partition)] = max(0, end - (done or 0))
    return lag


class PartitionGauge:
    """Publishes one value per input partition (``consumer_lag``, ``streams.
    observability.progress``); partitions no longer reported (revoked in a
    rebalance) are removed, so a moved partition is not counted twice."""

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._published: set[PartitionKey] = set()

    def publish(self, values: Mapping[PartitionKey, float]) -> None:
        for key, value in values.items():
            self._gauge.labels(key.topic, str(key.partition)).set(value)
        for gone in self._published - values.keys():
            self._gauge.remove(gone.topic, str(gone.partition))
        self._published = set(values)
