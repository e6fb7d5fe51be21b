"""Which partition an account lives on: Kafka's default (murmur2) partitioner.

Producers must use it too (it is the Java client's and aiokafka's default;
librdkafka clients need ``partitioner=murmur2_random``), because the worker
relies on every input topic and the state changelog putting an account on the
same partition number. ``healthscore replay`` uses it to reproduce the live
per-partition clocks.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_for(account_id: str | bytes, partitions: int) -> int:
    key = account_id.encode() if isinstance(account_id, str) else account_id
    hashed: int = murmur2(key)  # aiokafka is untyped: its murmur2 returns an int
    return (hashed & 0x7FFFFFFF) % partitions
