"""Shared by the tests of what a persist writes while alignment holds part of
a batch (``test_clock_held_back``, ``test_reread_stamps``): one account's
logins on one usage partition, and a pipeline that aligns its inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.processing.align import Aligner
from streams.processing.deadletter import DeadLetterLimit
from streams.processing.ingest import RawMessage
from streams.processing.partitioning import partition_for
from streams.processing.pipeline import Pipeline
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime
from tests.unit.streams.fastpath_support import PARTITIONS, Sink, Store

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
ACME = "acme"
P = partition_for(ACME, PARTITIONS)


def login(account: str, offset: int) -> RawMessage:
    """A login at ``offset`` minutes after T0, at that offset of the usage partition."""
    value = {
        "id": f"l{offset}",
        "account_id": account,
        "type": "login",
        "time": (T0 + timedelta(minutes=offset)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user_id": f"u{offset}",
    }
    return RawMessage(topics.USAGE, P, offset, account.encode(), orjson.dumps(value))


def usage_behind(topic: str, partition: int) -> bool:
    """More usage is on the broker: the last usage input read bounds the rest."""
    return topic == topics.USAGE


def aligned_pipeline(table: dict[bytes, Any], store: Store) -> Pipeline:
    runtime = Runtime(load_rules(), PARTITIONS, table)
    return Pipeline(
        runtime, Sink(), store, DeadLetterLimit(max_ratio=1.0), aligner=Aligner(INPUT_TOPICS)
    )
