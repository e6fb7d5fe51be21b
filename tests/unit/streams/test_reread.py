"""Records carry the read position they were written at; a new owner drops
exactly the re-read inputs a record holds (``streams.processing.reread``). The end-to-end
proof is ``test_handover_clock.test_new_owner_applies_no_input_twice_...``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas import topics
from schemas.topics import INPUT_TOPICS
from streams.processing.ingest import RawMessage, decode_batch
from streams.processing.partitioning import partition_for
from streams.processing.reread import POSITIONS_FIELD, stamp, windows
from streams.processing.rules import load_rules
from streams.processing.runtime import Runtime

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
PARTITIONS = 4
P = partition_for("acme", PARTITIONS)


def test_stamp_lists_every_input_topic_unknown_as_minus_one() -> None:
    record = stamp({"s": {}}, {topics.USAGE: 120, topics.BILLING: 4})
    expected = [
        120 if t == topics.USAGE else 4 if t == topics.BILLING else -1 for t in INPUT_TOPICS
    ]
    assert record == {"s": {}, POSITIONS_FIELD: expected}


def test_windows_keep_accounts_stamped_past_the_floor() -> None:
    def at(usage: int, tickets: int = -1) -> dict[str, Any]:
        return stamp({}, {topics.USAGE: usage, topics.TICKETS: tickets})

    records = [
        ("acme", at(150, 30)),
        ("globex", at(100)),  # at the floor: holds nothing read again
        ("initech", at(180, 10)),
        ("old", {"s": {}}),  # written before records carried positions
        ("odd", {POSITIONS_FIELD: [1, 2]}),  # unreadable: ignored
    ]
    found = windows(records, {topics.USAGE: 100, topics.TICKETS: 20})

    assert set(found) == {topics.USAGE, topics.TICKETS}
    usage = found[topics.USAGE]
    assert usage.held == {"acme": 150, "initech": 180} and usage.end == 180
    assert found[topics.TICKETS].held == {"acme": 30}
    assert usage.holds("acme", 149) and not usage.holds("acme", 150)
    assert not usage.holds("globex", 100) and not usage.holds("nobody", 0)


def _login(offset: int, day: int = 0) -> RawMessage:
    value = {
        "id": f"l{offset}",
        "account_id": "acme",
        "type": "login",
        "time": (T0 + timedelta(days=day, minutes=offset)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user_id": f"u{offset}",
    }
    return RawMessage(topics.USAGE, P, offset, b"acme", orjson.dumps(value))


def _run(runtime: Runtime, messages: list[RawMessage]) -> set[tuple[str, str]]:
    batch = decode_batch(messages)
    runtime.read(batch.read)
    held = runtime.held(messages)
    runtime.process(batch.accepted, held=held)
    return held


def _written(messages: list[RawMessage]) -> dict[bytes, Any]:
    """The table an old owner leaves after processing ``messages`` and writing."""
    table: dict[bytes, Any] = {}
    old = Runtime(load_rules(), PARTITIONS, table)
    _run(old, messages)
    for slot in old.take_dirty():
        key, record = old.stored_form(*slot)  # type: ignore[misc]
        table[key] = record
    return table


def test_a_new_owner_holds_back_what_the_record_holds_then_stops_looking() -> None:
    table = _written([_login(o) for o in range(50)])
    assert table[b"acme"][POSITIONS_FIELD][INPUT_TOPICS.index(topics.USAGE)] == 50

    new = Runtime(load_rules(), PARTITIONS, table)
    # Re-read from offset 10 (the commit): 10..49 are in the record, 50.. are not.
    first = _run(new, [_login(o) for o in range(10, 40)])
    assert first == {("acme", f"l{o}") for o in range(10, 40)}
    assert new.rereading
    second = _run(new, [_login(o) for o in range(40, 60)])
    assert second == {("acme", f"l{o}") for o in range(40, 50)}
    assert not new.rereading, "read past the window: nothing left to check"
    assert new.engines[P].counts.duplicates == 40 and new.engines[P].counts.applied == 10


def test_forgetting_a_partition_drops_its_windows() -> None:
    new = Runtime(load_rules(), PARTITIONS, _written([_login(o) for o in range(20)]))
    _run(new, [_login(0)])
    assert new.rereading
    new.forget({P})
    assert not new.rereading
