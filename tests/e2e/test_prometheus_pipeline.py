"""Observability of the running pipeline (issue 7): Prometheus and JSON logs.

The e2e pipeline (worker, API, projector, notifier) is scraped every second by
the real binary with the production rules loaded (services/stack/prometheus.py,
the same job names as deploy/prometheus/prometheus.yml); events are driven
through the API and the dashboard's kinds of questions are asked over
Prometheus' HTTP API: is every target up, what is the event rate, what is the
p99 event-to-score latency. ``promtool check metrics`` lints what each process
really serves on /metrics, not a registry built in the test.

Every process logs one JSON object per line (streams/observability/logging.py);
a dead-lettered input is logged with its origin and reason, never its payload.

Needs ``prometheus`` and ``promtool`` (Debian package ``prometheus``); skips
without them.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from schemas import topics
from services.stack.prometheus import PrometheusServer, start_prometheus
from services.stack.targets import ENDPOINTS, scrape_targets
from tests.e2e.pipeline import Pipeline
from tests.e2e.scenarios import FEATURES, make_event, make_profile
from tests.polling import wait_until

needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="prometheus/promtool not on PATH (apt-get install prometheus)",
)

JOBS = sorted(e.job for e in ENDPOINTS)
EVENT_RATE = "sum(rate(healthscore_events_consumed_total[15s]))"
SCORE_P99 = (
    "histogram_quantile(0.99, sum by (le) (rate(healthscore_event_to_score_seconds_bucket[30s])))"
)


@pytest.fixture(scope="module")
def prometheus(pipeline: Pipeline) -> Iterator[PrometheusServer]:
    server = start_prometheus(scrape_targets(pipeline.metrics), scrape_interval=1.0)
    try:
        yield server
    finally:
        server.stop()


def usage_batch(pipeline: Pipeline, accounts: int = 10) -> list[dict[str, object]]:
    """A profile and a few usage events per new account, dated just now."""
    at = datetime.fromtimestamp(pipeline.reserve(60), UTC)
    events = []
    for n in range(accounts):
        account = f"prom-{uuid.uuid4().hex[:8]}"
        events.append(make_profile(account, at))
        events.append(make_event(account, "login", at + timedelta(seconds=1), "l", user_id="u"))
        events.append(make_event(account, "feature_used", at + timedelta(seconds=2), "f",
                                 user_id="u", feature=FEATURES[n % len(FEATURES)]))  # fmt: skip
    return events


def drive_until(
    pipeline: Pipeline, prometheus: PrometheusServer, expr: str, timeout: float = 45.0
) -> float:
    """Post a batch every half second until ``expr`` has a finite value > 0.

    A rate needs two scrapes that saw the counter grow, so one batch is not
    enough: the traffic has to keep going while Prometheus watches.
    """
    deadline = time.monotonic() + timeout
    last: float | None = None
    with pipeline.client() as client:
        while time.monotonic() < deadline:
            client.post("/v1/events", json=usage_batch(pipeline)).raise_for_status()
            last = prometheus.client.value(expr)
            if last is not None and not math.isnan(last) and last > 0:
                return last
            time.sleep(0.5)
    raise AssertionError(f"{expr} never became a positive number (last {last})")


@needs_prometheus
def test_every_pipeline_process_is_scraped(prometheus: PrometheusServer) -> None:
    prometheus.client.wait_for('count(up{job=~"healthscore-.+"} == 1)', lambda v: v == len(JOBS))
    up = prometheus.query('up{job=~"healthscore-.+"}')
    assert sorted(s.labels["job"] for s in up if s.value == 1) == JOBS


@needs_prometheus
def test_event_rate_and_p99_latency_are_answered(
    pipeline: Pipeline, prometheus: PrometheusServer
) -> None:
    rate = drive_until(pipeline, prometheus, EVENT_RATE)
    p99 = drive_until(pipeline, prometheus, SCORE_P99)
    ingested = prometheus.client.value("sum(healthscore_events_ingested_total)")
    assert rate > 0 and ingested is not None and ingested > 0
    assert math.isfinite(p99)


@needs_prometheus
def test_consumer_lag_gauge_is_scraped(pipeline: Pipeline, prometheus: PrometheusServer) -> None:
    """Present per input partition (its value is not checked: Tansu's high-water
    marks are short; tests/integration/test_consumer_lag.py checks it on Apache Kafka)."""
    count = prometheus.client.wait_for(
        'count(healthscore_consumer_lag{job="healthscore-worker"})', timeout=30
    )
    assert count == 5 * pipeline.partitions


@needs_prometheus
@pytest.mark.parametrize("job", ["worker", "api", "readmodel", "notifier"])
def test_live_metrics_pass_promtool(pipeline: Pipeline, job: str) -> None:
    text = pipeline.metrics_text(job)
    assert "healthscore_" in text
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def json_records(pipeline: Pipeline, process: str) -> list[dict[str, Any]]:
    """The JSON log records in a process's output (Faust's banner is not one)."""
    lines = pipeline.processes[process].log_path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.mark.parametrize("process", ["api", "readmodel", "notifier"])
def test_service_output_is_json_lines(pipeline: Pipeline, process: str) -> None:
    text = pipeline.processes[process].log_path.read_text(errors="replace")
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert records, f"{process} logged nothing"
    for record in records:
        assert {"event", "level", "logger", "timestamp"} <= record.keys(), record


async def test_dead_letter_is_logged_with_its_origin_not_its_payload(pipeline: Pipeline) -> None:
    account, marker = f"bad-{uuid.uuid4().hex[:8]}", f"PII-{uuid.uuid4().hex}"
    bad = {
        "id": "x",
        "account_id": account,
        "type": "login",
        "time": "2026-11-02T09:15:00",
        "user_id": marker,
    }  # fmt: skip  (no offset in the time: invalid)
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topics.USAGE, json.dumps(bad).encode(), key=account.encode()
        )
    finally:
        await producer.stop()

    def logged() -> list[dict[str, Any]]:
        return [r for r in json_records(pipeline, "worker") if r.get("account_id") == account]

    (record,) = await asyncio.to_thread(wait_until, logged, 30, "dead-letter log line")
    assert record["event"] == "input dead-lettered" and record["level"] == "warning"
    origin = (record["topic"], record["partition"], record["offset"])
    assert origin == (topics.USAGE, sent.partition, sent.offset)
    assert "timezone" in record["reason"]
    assert marker not in pipeline.processes["worker"].log_path.read_text(errors="replace")
