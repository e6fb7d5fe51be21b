"""Dunning survives a worker restart mid-sequence: every step is emitted, and
none twice. Runs the real worker on a fresh Apache Kafka (recovery reads the
changelog up to its high-water marks, which Tansu reports short), stops it (SIGTERM) after
the first ten days of a billing history, restarts it with an EMPTY local data
dir (state comes back from the table's changelog topic), feeds the rest, and
compares the dunning events with an uninterrupted ``healthscore replay``.

Timers are event-time: each account logs in daily so its partition's clock
advances, and retries, grace, escalation, cancellation and renewal reminders
that fall due after the restart come from the restored state."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas import topics
from schemas.topics import TYPE_TO_TOPIC
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.replaying import PARTITIONS, replay_outputs
from tests.integration.worker_process import running_worker

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _at(day: float) -> str:
    return (T0 + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _history() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for account in ("soft", "hard", "renews"):
        events.append(
            {
                "id": f"{account}-p",
                "account_id": account,
                "type": "account_upserted",
                "time": _at(0),
                "name": account.title(),
                "segment": "smb",
            }
        )
        events += [
            {
                "id": f"{account}-l{d}",
                "account_id": account,
                "type": "login",
                "time": _at(d + 0.4),
                "user_id": "u1",
            }
            for d in range(31)
        ]
    pay = {"amount_cents": 9900, "currency": "USD"}
    events += [
        {"id": "soft-f", "account_id": "soft", "type": "payment_failed", "time": _at(2.5),
         "invoice_id": "in_soft", "decline_code": "insufficient_funds", **pay},
        {"id": "soft-ok", "account_id": "soft", "type": "payment_succeeded", "time": _at(14.5),
         "invoice_id": "in_soft", **pay},
        {"id": "hard-f", "account_id": "hard", "type": "payment_failed", "time": _at(3.5),
         "invoice_id": "in_hard", "decline_code": "stolen_card", **pay},
        {"id": "renews-r", "account_id": "renews", "type": "renewal_scheduled", "time": _at(1),
         "renewal_at": _at(20)},
    ]  # fmt: skip
    return sorted(events, key=lambda e: (e["time"], e["id"]))


def _records(events: list[dict[str, Any]]) -> list[tuple[str, bytes, bytes]]:
    return [(TYPE_TO_TOPIC[e["type"]], e["account_id"].encode(), orjson.dumps(e)) for e in events]


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


async def _dunning(bootstrap: str, want: int) -> list[bytes]:
    records = await read_until(
        bootstrap, topics.DUNNING, done=lambda kept: len(kept) >= want, keep=lambda _r: True,
        timeout=90, settle=3.0,
    )  # fmt: skip
    return [r.value for r in records]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_restart_mid_sequence_loses_and_repeats_nothing(
    fresh_apache_kafka_bootstrap: str, tmp_path: Path, store: str
) -> None:
    history = _history()
    cut = _at(10.9)
    first = [e for e in history if e["time"] < cut]
    rest = [e for e in history if e["time"] >= cut]
    before = replay_outputs(_write(tmp_path / "first.jsonl", first))[topics.DUNNING]
    expected = replay_outputs(_write(tmp_path / "all.jsonl", history))[topics.DUNNING]
    steps = Counter(orjson.loads(v)["data"]["step"] for v in expected)
    assert steps["canceled"] == 1 and steps["recovered"] == 1 and steps["renewal_reminder"] >= 1
    assert len(before) < len(expected), "some steps must fall due after the restart"

    bootstrap = fresh_apache_kafka_bootstrap
    await ensure_topics(bootstrap, PARTITIONS)
    await produce(bootstrap, _records(first))
    with running_worker(bootstrap, "dunning-restart", tmp_path / "run1", HEALTHSCORE_STORE=store):
        seen = await _dunning(bootstrap, len(before))
    assert Counter(seen) == Counter(before)

    await produce(bootstrap, _records(rest))
    with running_worker(bootstrap, "dunning-restart", tmp_path / "run2", HEALTHSCORE_STORE=store):
        seen = await _dunning(bootstrap, len(expected))

    ids = [orjson.loads(v)["id"] for v in seen]
    assert len(ids) == len(set(ids)), "a step was emitted twice"
    assert Counter(seen) == Counter(expected), "a step is missing or differs"
