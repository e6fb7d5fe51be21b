"""The config services/stack/prometheus.py writes, and binary discovery. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.stack.prometheus import (
    DEFAULT_RULES,
    PrometheusNotFoundError,
    ScrapeTarget,
    find_prometheus,
    render_config,
)


def _target(
    job: str = "healthscore-worker", port: int = 9101, path: str = "/metrics"
) -> ScrapeTarget:
    return ScrapeTarget(job, f"127.0.0.1:{port}", path)


def test_targets_of_one_job_share_a_scrape_config() -> None:
    config = render_config(
        [_target(port=9101), _target(port=9102), _target("healthscore-api", 8000)]
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["healthscore-worker"]["static_configs"] == [
        {"targets": ["127.0.0.1:9101", "127.0.0.1:9102"]}
    ]
    assert jobs["healthscore-api"]["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]


@pytest.mark.parametrize(("seconds", "expected"), [(1.0, "1000ms"), (1.5, "1500ms"), (0, "1ms")])
def test_intervals_are_prometheus_durations(seconds: float, expected: str) -> None:
    glob = render_config([_target()], scrape_interval=seconds)["global"]
    assert glob == {
        "scrape_interval": expected,
        "scrape_timeout": expected,
        "evaluation_interval": expected,
    }


def test_rule_files_become_absolute_paths() -> None:
    config = render_config([_target()], rule_files=[Path("deploy/prometheus/rules.yml")])
    (rule_file,) = config["rule_files"]
    assert Path(rule_file).is_absolute()


def test_default_rules_are_the_production_rules() -> None:
    assert DEFAULT_RULES.parts[-3:] == ("deploy", "prometheus", "rules.yml")
    assert DEFAULT_RULES.exists()


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PrometheusNotFoundError, match="apt-get install prometheus"):
        find_prometheus()
