"""After a restart, silent accounts still lose health: the live tick reaches
partitions that send nothing. Runs the real worker on a fresh Apache Kafka
(recovery needs exact high-water marks). A first worker, without the tick,
scores a week of daily logins that ended a month ago; a second one starts
with an EMPTY data dir (state comes from the changelog), the tick on, and no
new input at all. Every day of silence since then must show: the same
decay scores and inactivity alerts an uninterrupted engine gives when its
clock moves to now, each once.

Before ``Runtime.adopt`` a partition got its engine with its first batch, so
the second worker restored nothing and emitted nothing here."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas import topics
from services.replay import ReplaySummary, read_events, replay_events
from services.stack.topics import ensure_topics
from streams.domain.scoring.windows import DAY_SECONDS
from streams.processing.encode import encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules
from tests.integration.kafka_io import produce, read_until
from tests.integration.replaying import OUTPUTS, PARTITIONS, replay_outputs
from tests.integration.worker_process import running_worker

ACCOUNTS = ("acme", "globex", "initech", "umbrella", "hooli", "vandelay")


def _history(start: datetime) -> list[dict[str, Any]]:
    """A week of logins from established customers (signed up long before), so
    their silence afterwards is inactivity, not a stalled onboarding."""
    profiles = [
        {
            "id": f"{account}-profile",
            "account_id": account,
            "type": "account_upserted",
            "time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": account.title(),
            "segment": "smb",
            "created_at": (start - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for account in ACCOUNTS
    ]
    return profiles + [
        {
            "id": f"{account}-{day}",
            "account_id": account,
            "type": "login",
            "time": (start + timedelta(days=day, hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user_id": "u1",
        }
        for day in range(7)
        for account in ACCOUNTS
    ]


def _expected(path: Path, now_s: float) -> list[bytes]:
    """The history, then every partition's clock moved to ``now_s``."""
    rules = load_rules()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(PARTITIONS)}
    decided = list(replay_events(read_events(path, ReplaySummary()), engines, PARTITIONS))
    for engine in engines.values():
        decided.extend(engine.advance(now_s))
    emitted = encode(decided, rules.model.alerts.threshold)
    return [record.value for record in emitted if record.topic in OUTPUTS]


def _caused_before(values: list[bytes], end: datetime) -> list[bytes]:
    """Outputs caused before ``end``: a midnight passing while the test runs
    adds a day of decay on one side only."""
    return [v for v in values if datetime.fromisoformat(orjson.loads(v)["time"]) < end]


@pytest.mark.timeout(300)
async def test_restarted_worker_ticks_accounts_that_send_nothing(
    fresh_apache_kafka_bootstrap: str, tmp_path: Path
) -> None:
    now_s = time.time()
    today = datetime.fromtimestamp(now_s // DAY_SECONDS * DAY_SECONDS, UTC)
    history = _history(today - timedelta(days=40))
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in history))
    scored = [v for values in replay_outputs(path).values() for v in values]
    expected = _caused_before(_expected(path, now_s), today + timedelta(days=1))
    decayed = len(expected) - len(scored)
    kinds = Counter(orjson.loads(v)["type"].rsplit(".", 1)[-1] for v in expected[len(scored) :])
    assert decayed >= len(ACCOUNTS), "a month of silence must move every account's score"
    assert kinds["inactivity"] == len(ACCOUNTS), kinds

    bootstrap = fresh_apache_kafka_bootstrap
    await ensure_topics(bootstrap, PARTITIONS)
    await produce(
        bootstrap,
        [
            (topics.TYPE_TO_TOPIC[e["type"]], e["account_id"].encode(), orjson.dumps(e))
            for e in history
        ],
    )
    with running_worker(bootstrap, "restart-tick", tmp_path / "run1"):
        seen = await _outputs(bootstrap, len(scored))
    assert Counter(seen) == Counter(scored), "the first worker scores the history"

    with running_worker(
        bootstrap,
        "restart-tick",
        tmp_path / "run2",
        HEALTHSCORE_LIVE_TICK="1",
        HEALTHSCORE_TICK_SECONDS="1",
    ):
        seen = await _outputs(bootstrap, len(expected))

    seen = _caused_before(seen, today + timedelta(days=1))
    assert len(seen) > len(scored), "the restarted worker never ticked the silent accounts"
    ids = [orjson.loads(v)["id"] for v in seen]
    assert len(ids) == len(set(ids)), "an output was emitted twice"
    assert Counter(seen) == Counter(expected), "a day of silence is missing or differs"


async def _outputs(bootstrap: str, want: int) -> list[bytes]:
    records = await read_until(
        bootstrap, list(OUTPUTS), done=lambda kept: len(kept) >= want, timeout=120, settle=3.0
    )
    return [r.value for r in records]
