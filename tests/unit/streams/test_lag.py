"""Consumer lag from high-water marks and committed offsets (pure, no broker)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge

from streams.observability.lag import PartitionGauge, PartitionKey, consumer_lag

USAGE, BILLING, CHANGELOG = "cs.usage.v1", "cs.billing.v1", "healthscore-accounts-changelog"


def tp(topic: str, partition: int) -> PartitionKey:
    return PartitionKey(topic, partition)


@pytest.mark.parametrize(
    ("highwater", "committed", "expected"),
    [
        ({tp(USAGE, 0): 100}, {tp(USAGE, 0): 100}, {tp(USAGE, 0): 0}),
        ({tp(USAGE, 0): 100}, {tp(USAGE, 0): 60}, {tp(USAGE, 0): 40}),
        ({tp(USAGE, 0): 100}, {}, {tp(USAGE, 0): 100}),  # nothing committed yet
        ({tp(USAGE, 0): 100}, {tp(USAGE, 0): None}, {tp(USAGE, 0): 100}),
        ({tp(USAGE, 0): 90}, {tp(USAGE, 0): 100}, {tp(USAGE, 0): 0}),  # stale high-water
        ({tp(USAGE, 0): None}, {tp(USAGE, 0): 5}, {}),  # not fetched yet: unknown
        ({tp(CHANGELOG, 0): 7}, {}, {}),  # not an input topic
    ],
)
def test_consumer_lag(
    highwater: dict[PartitionKey, int | None],
    committed: dict[PartitionKey, int | None],
    expected: dict[PartitionKey, int],
) -> None:
    assert consumer_lag(highwater, highwater.get, committed, {USAGE, BILLING}) == expected


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in registry.collect()
        for s in family.samples
    }


def test_lag_gauge_drops_revoked_partitions() -> None:
    registry = CollectorRegistry()
    gauge = PartitionGauge(Gauge("lag", "test", ["topic", "partition"], registry=registry))
    gauge.publish({tp(USAGE, 0): 3, tp(USAGE, 1): 0})
    assert _samples(registry) == {(USAGE, "0"): 3.0, (USAGE, "1"): 0.0}
    gauge.publish({tp(USAGE, 1): 2})
    assert _samples(registry) == {(USAGE, "1"): 2.0}
