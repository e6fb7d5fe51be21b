"""A real Prometheus (services/stack/prometheus.py) scrapes a process serving the
worker metrics, loads deploy/prometheus/rules.yml, and answers the queries the
dashboard and alerts rely on over its HTTP API.

Needs the ``prometheus`` binary (Debian package ``prometheus``); skips without
it. Everything binds 127.0.0.1 on free ports and is stopped at the end.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.stack.prometheus import (
    PrometheusError,
    PrometheusServer,
    ScrapeTarget,
    start_prometheus,
)
from tests.deploy.promql import ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not on PATH"),
]


@pytest.fixture(scope="module")
def fake_worker() -> Iterator[str]:
    """host:port of a process exposing moving worker metrics."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.fake_worker_metrics", "--seconds", "120"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def prometheus(fake_worker: str) -> Iterator[PrometheusServer]:
    server = start_prometheus([ScrapeTarget("healthscore-worker", fake_worker)])
    try:
        yield server
    finally:
        server.stop()


def test_target_is_scraped(prometheus: PrometheusServer, fake_worker: str) -> None:
    prometheus.client.wait_for(f'up{{job="healthscore-worker",instance="{fake_worker}"}}')
    assert prometheus.client.targets_health() == {f"healthscore-worker/{fake_worker}": "up"}


def test_event_rate_is_positive(prometheus: PrometheusServer) -> None:
    rate = prometheus.client.wait_for("sum(rate(healthscore_events_consumed_total[10s]))")
    assert rate > 0
    (sample,) = prometheus.query("sum by (topic) (rate(healthscore_events_consumed_total[10s]))")
    assert sample.labels == {"topic": "cs.usage.v1"}


def test_event_to_alert_p99_is_a_number(prometheus: PrometheusServer) -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le) "
        "(rate(healthscore_event_to_alert_seconds_bucket[10s])))"
    )
    p99 = prometheus.client.wait_for(expr, lambda v: not math.isnan(v))
    # Observations are uniform in [0.01, 0.5]: p99 lies in the 0.25-0.5 bucket.
    assert 0.25 <= p99 <= 0.5


def test_production_rules_are_loaded(prometheus: PrometheusServer) -> None:
    names = prometheus.client.rule_names()
    assert {"HealthscoreEventToAlertLatencyHigh", "healthscore:events_consumed:rate1m"} <= names


def test_bad_promql_raises(prometheus: PrometheusServer) -> None:
    with pytest.raises(PrometheusError, match="parse error"):
        prometheus.query("sum(rate(")


def test_stop_ends_the_process_and_removes_its_data() -> None:
    server = start_prometheus([], rule_files=[])
    workdir = server.workdir
    assert server.client.value("vector(1)") == 1.0
    server.stop()
    assert server.process.poll() is not None
    assert not workdir.exists()
    server.stop()  # idempotent


def test_a_config_prometheus_rejects_fails_with_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: sum(\n")
    with pytest.raises(PrometheusError, match="exited"):
        start_prometheus([], rule_files=[broken], workdir=tmp_path / "prom")
