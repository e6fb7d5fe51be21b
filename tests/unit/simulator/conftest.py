"""Factories for simulator tests: a fixed end time and decoded events.

Pure tests: no broker, no clock. A 60-account, 30-day simulation has ~20k
events and takes well under a second, so it is built once per module.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from services.simulator import Simulation
from services.simulator.clock import parse_rfc3339

END = parse_rfc3339("2026-11-23T00:00:00Z")


def make_simulation(
    accounts: int = 60, days: int = 30, seed: int = 42, end: int = END
) -> Simulation:
    return Simulation.create(accounts=accounts, days=days, seed=seed, end=end)


def decode(sim: Simulation) -> list[tuple[str, bytes, dict[str, Any]]]:
    return [(topic, key, orjson.loads(value)) for topic, key, value in sim.events()]


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return make_simulation()


@pytest.fixture(scope="module")
def events(sim: Simulation) -> list[tuple[str, bytes, dict[str, Any]]]:
    return decode(make_simulation())


@pytest.fixture(scope="module")
def by_account(events: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for _, _, event in events:
        grouped.setdefault(event["account_id"], []).append(event)
    return grouped
