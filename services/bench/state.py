"""State bytes per account, read from the tables' changelog topics.

A Faust table's changelog is its durable copy: recovery replays it, so its
live content (the latest record per key) is what the state costs to keep and
to restore. We read every ``<app_id>-*-changelog`` topic to its end, keep the
size of the latest key+value per key (a tombstone deletes the key), and
divide by the number of accounts (every key but the partition clocks of
``streams.processing.clock``, whose few bytes count towards the total). Reading the
broker instead of asking the worker keeps it honest for any store and works
the same for the naive baseline.
The record count is reported too: records written per input event is the
write amplification the hot path was designed to cut.
"""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord

from services.bench.readback import list_topics, read_until_idle
from streams.processing.clock import is_clock_key


class ChangelogTally:
    def __init__(self) -> None:
        self.records = 0
        self.latest: dict[tuple[str, bytes], int] = {}

    def visit(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.records += 1
        slot = (record.topic, record.key or b"")
        if record.value is None:
            self.latest.pop(slot, None)
        else:
            self.latest[slot] = len(record.key or b"") + len(record.value)


async def measure_state(bootstrap: str, app_id: str, events: int) -> dict[str, Any]:
    """Changelog-based state size of the app ``app_id`` after ``events`` inputs."""
    topics = [
        t
        for t in await list_topics(bootstrap)
        if t.startswith(f"{app_id}-") and t.endswith("-changelog")
    ]
    tally = ChangelogTally()
    if topics:
        await read_until_idle(bootstrap, topics, tally.visit)
    keys = len({key for _, key in tally.latest if not is_clock_key(key)})
    size = sum(tally.latest.values())
    return {
        "changelog_topics": [t.removeprefix(f"{app_id}-") for t in topics],
        "keys": keys,
        "live_bytes": size,
        "bytes_per_account": round(size / keys, 1) if keys else None,
        "changelog_records": tally.records,
        "changelog_records_per_event": round(tally.records / events, 4) if events else None,
    }
