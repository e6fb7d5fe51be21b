"""The day-boundary burst of ``bench_hot_path.py``, and the output digest both use.

At an event-time midnight every account with recent history wakes up (windows
slide, silence shows), so a partition with many accounts pays for all of them
at once. ``burst`` times the next midnights over accounts with a little history;
``digest_records`` hashes emitted records so an optimisation can prove its
outputs unchanged.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.domain.events import AccountProfile, DomainEvent, UsageEvent
from streams.processing.encode import Emit, encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import Rules

BURST_DAY = datetime(2026, 11, 16, tzinfo=UTC)
#: Midnights ``burst`` times: the first only slides windows, the later ones
#: also emit (decay, inactivity alerts) and cost several times more.
TIMED_MIDNIGHTS = 3


def midnight(day: int) -> float:
    """A second past the ``day``-th midnight from ``BURST_DAY``, in POSIX seconds."""
    return (BURST_DAY + timedelta(days=day, seconds=1)).timestamp()


def digest_records(digest: Any, records: list[Emit]) -> None:
    """Length-prefixed topic, key and value of each record, in order."""
    for emit in records:
        digest.update(b"%d:%s|%d:%s|%d:%s\n" % (
            len(emit.topic), emit.topic.encode(), len(emit.key), emit.key,
            len(emit.value), emit.value,
        ))  # fmt: skip


def burst_history(accounts: int) -> list[DomainEvent]:
    """Per account: a profile, feature use two days ago, records and a login yesterday."""
    out: list[DomainEvent] = []
    for i in range(accounts):
        acc = f"b{i:06d}"
        t0 = BURST_DAY - timedelta(days=2, hours=-9, seconds=-i % 3600)
        t1 = BURST_DAY - timedelta(days=1, hours=-10, seconds=-i % 3600)
        segment = ("smb", "enterprise", "free", "mid_market")[i % 4]
        out.append(AccountProfile(f"{acc}-p", acc, t0, f"Acct {i}", segment, 100_000, "c@x.io"))
        out.append(UsageEvent(f"{acc}-f", acc, "feature_used", t0, "u1", f"f{i % 7}"))
        out.append(UsageEvent(f"{acc}-r", acc, "records_changed", t1, "u1", None, 5 + i % 50))
        out.append(UsageEvent(f"{acc}-l", acc, "login", t1, "u2"))
    out.sort(key=lambda e: e.at)
    return out


def burst_engine(rules: Rules, accounts: int, poll: int) -> PartitionEngine:
    """An engine that has applied ``burst_history``, in polls of ``poll`` events."""
    engine = PartitionEngine(0, rules.model, rules.policies)
    history = burst_history(accounts)
    for i in range(0, len(history), poll):
        engine.process(history[i : i + poll])
    return engine


def burst(
    rules: Rules, accounts: int, poll: int, boundaries: int = TIMED_MIDNIGHTS, days: int = 0
) -> list[float]:
    """CPU seconds of each of the next ``boundaries`` midnights (all accounts
    wake); then ``days`` more midnights (untimed) so decay and inactivity
    alerts fire, all emitted records hashed into one printed digest."""
    engine = burst_engine(rules, accounts, poll)
    out = []
    digest = hashlib.sha256()
    emitted = 0
    for day in range(boundaries + days):
        start = time.process_time()
        records = encode(engine.advance(midnight(day)), rules.model.alerts.threshold)
        if day < boundaries:
            out.append(time.process_time() - start)
        emitted += len(records)
        digest_records(digest, records)
    print(f"burst: {emitted:,} records over {boundaries + days} midnights, "
          f"sha256 {digest.hexdigest()}")  # fmt: skip
    return out
