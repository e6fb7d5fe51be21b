"""The worker on each real broker (Tansu and Apache Kafka): every bad input
lands in cs.deadletter.v1 with its reason and origin, and the good events
produced after them are still processed (their scores reach cs.health.v1).

Needs the broker fixtures from tests/conftest.py; runs the real worker as a
subprocess with its own consumer group."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce, read_until
from tests.integration.worker_process import running_worker

BAD = [
    (b"not json at all", "not valid JSON"),
    (b'{"id":"x1","account_id":"ACC","type":"login","time":"2026-11-02T09:15:00Z","user_id":7}',
     "user_id: Input should be a valid string"),
    (b'{"id":"x2","account_id":"ACC","type":"logout","time":"2026-11-02T09:15:00Z"}',
     "unknown type 'logout'"),
    (b'{"id":"x3","type":"login","time":"2026-11-02T09:15:00Z"}', "account_id: field required"),
    (b'{"id":"x4","account_id":"ACC","type":"login","time":"2026-11-02T09:15:00"}',
     "time: Input should have timezone info"),
    (b'{"id":"x5","account_id":"ACC","type":"login","time":"2026-11-02T09:15:00Z","user_id":"'
     + b"u" * (100 * 1024) + b'"}', "over the 65536-byte limit"),
]  # fmt: skip


def _good(account: str) -> list[tuple[str, bytes, bytes]]:
    key = account.encode()
    profile = {
        "id": f"{account}-p",
        "account_id": account,
        "type": "account_upserted",
        "time": "2026-11-01T00:00:00Z",
        "name": "Acme",
        "segment": "smb",
        "owner": "csm@example.com",
    }
    out = [(topics.ACCOUNTS, key, orjson.dumps(profile))]
    for day in range(1, 6):
        login = {
            "id": f"{account}-l{day}",
            "account_id": account,
            "type": "login",
            "time": f"2026-11-0{day}T09:00:00Z",
            "user_id": "u1",
        }
        out.append((topics.USAGE, key, orjson.dumps(login)))
    return out


@pytest.mark.timeout(240)
async def test_bad_inputs_are_dead_lettered_and_good_ones_processed(
    kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    account = unique_name("acct")
    key = account.encode()
    await ensure_topics(kafka_bootstrap, 4)
    bad = [(topics.USAGE, key, raw.replace(b"ACC", key)) for raw, _ in BAD]
    await produce(kafka_bootstrap, bad + _good(account))

    with running_worker(kafka_bootstrap, unique_name("worker"), tmp_path / "w") as log:
        dead = await read_until(
            kafka_bootstrap,
            topics.DEADLETTER,
            done=lambda kept: len(kept) >= len(BAD),
            keep=lambda r: r.key == key,
            timeout=90,
        )
        health = await read_until(
            kafka_bootstrap,
            topics.HEALTH,
            done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == key,
            timeout=60,
        )
        worker_log = log.read_text(errors="replace")

    assert len(dead) == len(BAD), worker_log[-3000:]
    letters = [orjson.loads(r.value) for r in dead]
    for (raw, reason), letter in zip(BAD, sorted(letters, key=lambda x: x["offset"]), strict=True):
        assert reason in letter["reason"]
        assert letter["topic"] == topics.USAGE
        assert letter["partition"] >= 0 and letter["offset"] >= 0
        assert base64.b64decode(letter["value_b64"]) == raw.replace(b"ACC", key)
    assert health, "the good events after the rejects were not processed"
    latest = orjson.loads(health[-1].value)
    assert latest["subject"] == account
    assert 0 <= latest["data"]["score"] <= 100
