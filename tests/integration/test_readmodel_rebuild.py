"""``healthscore readmodel rebuild`` after Redis lost everything: the API answers
as before - scores, at-risk listing, alerts, dunning, the workspace, subscriptions.

Filled the way production fills it: the worker's outputs for a simulated history
(what ``healthscore replay`` emits, byte for byte what the live worker writes)
and the inputs the projector reads are on Apache Kafka (exact end offsets,
which the rebuild reads up to), the projector process puts them into Redis,
and subscriptions are created, and one deleted, through the API. Then
FLUSHALL, the rebuild command, and the same questions again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from fastapi.testclient import TestClient

from schemas import topics
from services.api.subscription_store import SUBSCRIPTIONS
from services.readmodel.projector import READ_MODEL_TOPICS
from services.replay import ReplaySummary, read_events, replay_events
from services.simulator import Simulation
from services.stack.probe import run_sync
from services.stack.process import ServerProcess, spawn
from services.stack.topics import ensure_topics
from streams.processing.encode import encode
from streams.processing.engine import PartitionEngine
from streams.processing.rules import load_rules
from tests.api.support import ADMIN, READ, SUBSCRIPTION_KEY, make_settings
from tests.integration.kafka_io import produce
from tests.integration.replaying import HISTORY_END
from tests.polling import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 3
SAMPLE = 25  # accounts whose every page is compared


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, bytes]]:
    return pipeline_records(tmp_path_factory.mktemp("rebuild"))


def pipeline_records(tmp: Path) -> list[tuple[str, bytes, bytes]]:
    """The worker's outputs for a simulated history, and the inputs the
    projector also reads, in an order the live pipeline could have produced."""
    sim = Simulation.create(accounts=300, days=40, seed=11, end=HISTORY_END)
    events = list(sim.events())
    path = tmp / "history.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _t, _k, value in events))
    rules = load_rules()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(PARTITIONS)}
    decided = replay_events(read_events(path, ReplaySummary()), engines, PARTITIONS)
    outputs = [(r.topic, r.key, r.value) for r in encode(decided, rules.model.alerts.threshold)]
    inputs = [e for e in events if e[0] in (topics.ACCOUNTS, topics.BILLING)]
    return inputs + outputs


def env(bootstrap: str, redis_url: str, group: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REDIS_URL": redis_url,
        "HEALTHSCORE_READMODEL_GROUP": group,
        "HEALTHSCORE_READMODEL_METRICS_PORT": "0",
        "HEALTHSCORE_SUBSCRIPTION_KEYS": SUBSCRIPTION_KEY,
    }


@pytest.fixture
def projector(fresh_apache_kafka_bootstrap: str, clean_redis_url: str) -> Iterator[ServerProcess]:
    run_sync(ensure_topics(fresh_apache_kafka_bootstrap, PARTITIONS))
    proc = spawn(
        "readmodel",
        [sys.executable, "-m", "services.readmodel"],
        clean_redis_url,
        env=env(fresh_apache_kafka_bootstrap, clean_redis_url, "rebuild-test"),
        cwd=ROOT,
    )
    yield proc
    proc.stop()


def pages(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query, headers=READ).json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def snapshot(client: TestClient) -> dict[str, Any]:
    """What the API answers; alert cursors (new stream ids after a rebuild) left out."""
    accounts = pages(client, "/v1/accounts")
    alerts = [{k: v for k, v in a.items() if k != "cursor"} for a in pages(client, "/v1/alerts")]
    shot: dict[str, Any] = {
        "accounts": accounts,
        "at_risk": pages(client, "/v1/accounts", band="at_risk"),
        "by_arr": pages(client, "/v1/accounts", sort="arr"),
        "alerts": sorted(alerts, key=lambda a: str(a["id"])),
        "churn": client.get("/v1/analytics/churn", headers=READ).json(),
        "subscriptions": client.get("/v1/subscriptions", headers=ADMIN).json(),
    }
    for summary in accounts[:SAMPLE]:
        account = summary["account_id"]
        for part in ("health", "dunning", "dunning/history", "history", "timeline", "profile"):
            response = client.get(f"/v1/accounts/{account}/{part}", headers=READ)
            shot[f"{account}/{part}"] = (response.status_code, response.json())
        account_alerts = pages(client, "/v1/alerts", account_id=account)
        shot[f"{account}/alerts"] = [a["id"] for a in account_alerts]  # newest first, in order
    return shot


def secrets_in(redis_url: str) -> dict[str, str | None]:
    with redis.Redis.from_url(redis_url) as client:
        stored = client.hgetall(SUBSCRIPTIONS)
    return {k.decode(): orjson.loads(v)["secret"] for k, v in stored.items()}


def committed_all(bootstrap: str, group: str, ends: dict[Any, int]) -> bool:
    from aiokafka import AIOKafkaConsumer

    async def check() -> bool:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await consumer.start()
        try:
            return all([(await consumer.committed(tp) or 0) >= end for tp, end in ends.items()])
        finally:
            await consumer.stop()

    return run_sync(check())


def end_offsets(bootstrap: str) -> dict[Any, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def read() -> dict[Any, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        try:
            parts = [TopicPartition(t, p) for t in READ_MODEL_TOPICS for p in range(PARTITIONS)]
            return dict(await consumer.end_offsets(parts))
        finally:
            await consumer.stop()

    return run_sync(read())


def rebuild(bootstrap: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "readmodel", "rebuild"],
        env=env(bootstrap, redis_url, "unused"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_rebuild_after_flushall_gives_the_same_answers(
    projector: ServerProcess,
    fresh_apache_kafka_bootstrap: str,
    history: list[tuple[str, bytes, bytes]],
) -> None:
    bootstrap, redis_url = fresh_apache_kafka_bootstrap, projector.address
    run_sync(produce(bootstrap, history))
    ends = end_offsets(bootstrap)
    wait_until(lambda: committed_all(bootstrap, "rebuild-test", ends), 120, "projector done")
    projector.stop()  # only the rebuild writes from here on
    app_settings = make_settings(redis_url, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    from services.api.main import create_app

    with TestClient(create_app(app_settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, 60, "API ready")
        for body in (
            {"channel": "webhook", "target": "https://cs.example.com/a"},
            {"channel": "email", "target": "csm@example.com", "filters": {"segments": ["smb"]}},
            {"channel": "webhook", "target": "https://cs.example.com/gone"},
        ):
            assert client.post("/v1/subscriptions", json=body, headers=ADMIN).status_code == 201
        gone = client.get("/v1/subscriptions", headers=ADMIN).json()["items"][-1]["id"]
        assert client.delete(f"/v1/subscriptions/{gone}", headers=ADMIN).status_code == 204
        before, secrets = snapshot(client), secrets_in(redis_url)
        assert len(before["at_risk"]) > 0 and len(before["alerts"]) > 0
        assert len(before["subscriptions"]["items"]) == 2

        with redis.Redis.from_url(redis_url) as raw:
            raw.flushall()
        assert client.get("/v1/accounts", headers=READ).json()["items"] == []

        done = rebuild(bootstrap, redis_url)
        assert done.returncode == 0, done.stderr
        assert "rebuild: reading" in done.stdout and "rebuild: rebuilt from" in done.stdout
        print(done.stdout.splitlines()[-1])  # the figure docs/reliability.md quotes
        assert snapshot(client) == before
        assert secrets_in(redis_url) == secrets

        again = rebuild(bootstrap, redis_url)  # idempotent: nothing changes
        assert again.returncode == 0, again.stderr
        assert snapshot(client) == before


def test_rebuild_reads_what_a_broker_reporting_short_end_offsets_holds(
    fresh_tansu_bootstrap: str, clean_redis_url: str, history: list[tuple[str, bytes, bytes]]
) -> None:
    """Tansu reports each partition's end before its last batch: the rebuild
    also reads the records past it that were written before it began."""
    run_sync(ensure_topics(fresh_tansu_bootstrap, PARTITIONS))
    run_sync(produce(fresh_tansu_bootstrap, history))
    done = rebuild(fresh_tansu_bootstrap, clean_redis_url)
    assert done.returncode == 0, done.stderr
    alerts = {orjson.loads(v)["id"] for t, _k, v in history if t == topics.ALERTS}
    with redis.Redis.from_url(clean_redis_url) as client:
        feed = client.xrange("hs:alerts")
        profiles = len(client.keys("hs:profile:*"))
    assert sorted(orjson.loads(f[b"event"])["id"] for _i, f in feed) == sorted(alerts)
    assert profiles == len({k for t, k, _v in history if t == topics.ACCOUNTS})


def test_rebuild_errors_are_clear(clean_redis_url: str) -> None:
    no_kafka = rebuild("127.0.0.1:1", clean_redis_url)
    assert no_kafka.returncode == 1, no_kafka.stdout
    assert "Kafka at 127.0.0.1:1 does not answer" in no_kafka.stderr
    no_redis = rebuild("127.0.0.1:1", "redis://:pw-not-shown@127.0.0.1:1/0")
    assert no_redis.returncode == 1
    assert "Redis at redis://***@127.0.0.1:1/0 does not answer" in no_redis.stderr
    assert "Traceback" not in no_kafka.stderr + no_redis.stderr
