"""Runtime: a revoked partition's engine is forgotten, and when the partition
comes back its accounts are restored from the table, not from a stale copy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.domain.events import UsageEvent
from streams.processing.ingest import Accepted
from streams.processing.partitioning import partition_for
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)


def test_forgotten_partition_is_restored_from_the_table() -> None:
    table: dict[bytes, Any] = {}
    runtime = Runtime(load_rules(), 4, table)
    login = UsageEvent(id="l1", account_id="acme", kind="login", at=T0, user_id="u1")
    partition = partition_for("acme", 4)
    runtime.process([Accepted(partition, login, None)])
    for slot in runtime.take_dirty():
        stored = runtime.stored_form(*slot)
        assert stored is not None
        table[stored[0]] = stored[1]
    stale = runtime.engine(partition)

    runtime.forget({partition})
    table[b"acme"] = {}  # another worker's newer state: nothing scored yet

    restored = runtime.engine(partition)
    assert restored is not stale
    assert restored.accounts["acme"].draft is None
    assert stale.accounts["acme"].draft is not None
