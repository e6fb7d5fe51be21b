"""``healthscore_consumer_lag`` on Apache Kafka: the worker publishes one series
per input partition it owns, and each reads 0 once it has consumed and
committed everything.

Apache Kafka only: Tansu reports high-water marks short, so lag read against it
is wrong by design (see services/stack/tansu.py). Runs the real worker as a
subprocess with its own consumer group and a free metrics port.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas import topics
from services.stack.process import free_port
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import produce
from tests.integration.worker_process import running_worker

PARTITIONS = 4


def lag_samples(text: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "healthscore_consumer_lag"
        for s in family.samples
    }


def logins(prefix: str, accounts: int, per_account: int) -> list[tuple[str, bytes, bytes]]:
    out = []
    for a in range(accounts):
        account = f"{prefix}-{a}"
        for n in range(per_account):
            event = {"id": f"{account}-{n}", "account_id": account, "type": "login",
                     "time": f"2026-11-0{1 + n % 9}T09:00:00Z", "user_id": "u1"}  # fmt: skip
            out.append((topics.USAGE, account.encode(), orjson.dumps(event)))
    return out


@pytest.mark.timeout(240)
async def test_lag_gauge_reads_zero_after_consuming_on_apache_kafka(
    apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    await ensure_topics(apache_kafka_bootstrap, PARTITIONS)
    await produce(apache_kafka_bootstrap, logins(unique_name("lag"), accounts=20, per_account=10))
    port = free_port()
    wanted = {(t, str(p)) for t in topics.INPUT_TOPICS for p in range(PARTITIONS)}
    seen: dict[tuple[str, str], float] = {}
    env = {"HEALTHSCORE_WORKER_METRICS_PORT": str(port), "HEALTHSCORE_LAG_INTERVAL": "0.5"}
    with running_worker(apache_kafka_bootstrap, unique_name("worker"), tmp_path / "w", **env):
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    seen = lag_samples((await client.get(f"http://127.0.0.1:{port}/metrics")).text)
                except httpx.TransportError:
                    seen = {}
                if seen.keys() == wanted and not any(seen.values()):
                    break
                await asyncio.sleep(0.5)
    assert seen.keys() == wanted
    assert {k: v for k, v in seen.items() if v} == {}
