"""Batched metric updates export exactly what per-record updates would."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from schemas import topics
from streams.domain.events import UsageEvent
from streams.observability import metrics
from streams.processing.encode import Emit
from streams.processing.ingest import Accepted, DecodedBatch
from streams.processing.pipeline import _append_times, _observe

T0 = datetime(2026, 9, 1, tzinfo=UTC)
BUCKETS = (0.005, 0.01, 0.25, 1, 10)
#: On a bound, between bounds, zero, and past the last finite bound (+Inf bucket).
AMOUNTS = [0.0, 0.005, 0.0051, 0.01, 0.2, 0.25, 0.9999, 1.0, 3.0, 10.0, 10.5, 1e9, 0.005]


def _samples(histogram: Histogram) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in histogram.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_observe_many_matches_observe_bucket_for_bucket() -> None:
    one = Histogram("one", "h", ["clock"], buckets=BUCKETS, registry=CollectorRegistry())
    many = Histogram("one", "h", ["clock"], buckets=BUCKETS, registry=CollectorRegistry())
    for amount in AMOUNTS:
        one.labels("event").observe(amount)
    metrics.observe_many(many.labels("event"), AMOUNTS)
    metrics.observe_many(many.labels("event"), [])  # nothing: no change
    expected, got = _samples(one), _samples(many)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key
    assert got["one_count", (("clock", "event"),)] == len(AMOUNTS)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _emit(topic: str, key: bytes, kind: str, caused_at: float) -> Emit:
    return Emit(topic, key, b"{}", caused_at, kind)


def test_observe_counts_and_times_every_output_once() -> None:
    now = time.time()
    records = [
        _emit(topics.HEALTH, b"a", "health", now - 2),
        _emit(topics.HEALTH, b"b", "health", now - 2),
        _emit(topics.ALERTS, b"a", "health_below_threshold", now - 2),
        _emit(topics.ALERTS, b"c", "sudden_drop", now - 2),
        _emit(topics.DUNNING, b"a", "failed_payment_notice", now - 2),
    ]
    ingested = {"a": now - 0.5}  # b and c have no append time in this batch
    names = [
        ("healthscore_health_changes_total", {}),
        ("healthscore_alerts_total", {"type": "health_below_threshold"}),
        ("healthscore_alerts_total", {"type": "sudden_drop"}),
        ("healthscore_dunning_steps_total", {"step": "failed_payment_notice"}),
        ("healthscore_event_to_score_seconds_count", {"clock": "event"}),
        ("healthscore_event_to_score_seconds_count", {"clock": "ingest"}),
        ("healthscore_event_to_alert_seconds_count", {"clock": "event"}),
        ("healthscore_event_to_alert_seconds_count", {"clock": "ingest"}),
        # event-clock delays are ~2 s: in the (1, 2.5] bucket, not below 1
        ("healthscore_event_to_score_seconds_bucket", {"clock": "event", "le": "1.0"}),
        ("healthscore_event_to_score_seconds_bucket", {"clock": "event", "le": "2.5"}),
    ]
    before = [_value(name, **labels) for name, labels in names]
    _observe(records, ingested)
    _observe([], ingested)
    deltas = [_value(name, **labels) - b for (name, labels), b in zip(names, before, strict=True)]
    assert deltas == [2, 1, 1, 1, 2, 1, 2, 1, 0, 2]


def test_append_times_keep_each_accounts_newest_input() -> None:
    def login(account: str, n: int) -> Accepted:
        event = UsageEvent(id=f"{account}{n}", account_id=account, kind="login", at=T0)
        return Accepted(0, event, {1: 5.0, 2: 7.0, 3: 6.0, 4: None}[n])

    accepted = [login("a", 1), login("a", 2), login("a", 3), login("b", 4), login("c", 3)]
    batch = DecodedBatch(accepted, [], Counter())
    assert _append_times(batch.accepted) == {"a": 7.0, "c": 6.0}  # b's input has no append time
