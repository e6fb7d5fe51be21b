"""Scrape targets of the dev stack from the environment (pure, no servers)."""

from __future__ import annotations

import pytest

from services.stack.targets import metrics_addresses, scrape_targets


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"worker": "127.0.0.1:9101", "api": "127.0.0.1:8000",
              "readmodel": "127.0.0.1:9102", "notifier": "127.0.0.1:9103"}),
        ({"HEALTHSCORE_WORKER_METRICS_PORT": "0", "HEALTHSCORE_API_PORT": "8123"},
         {"api": "127.0.0.1:8123", "readmodel": "127.0.0.1:9102", "notifier": "127.0.0.1:9103"}),
    ],
)  # fmt: skip
def test_metrics_addresses_follow_the_processes_settings(
    env: dict[str, str], expected: dict[str, str]
) -> None:
    assert metrics_addresses(env) == expected


def test_scrape_targets_use_the_production_job_names_of_running_processes() -> None:
    targets = scrape_targets(metrics_addresses({}), running={"worker", "readmodel"})

    assert [(t.job, t.address) for t in targets] == [
        ("healthscore-worker", "127.0.0.1:9101"),
        ("healthscore-projector", "127.0.0.1:9102"),
    ]
