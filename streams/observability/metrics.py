"""Every metric the worker exports, declared once.

Names follow Prometheus conventions: ``healthscore_`` prefix, base units,
``_total`` for counters, histograms for latencies. Labels stay low-cardinality:
topics, reason kinds and types, never account ids.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# Input messages taken from Kafka, valid or not.
EVENTS_CONSUMED = Counter(
    "healthscore_events_consumed_total", "Input messages consumed.", ["topic"]
)
# Valid inputs read but not applied yet: event-time alignment holds them until
# no lagging sibling partition can precede them (streams.processing.align).
# Consumed minus held is what the engine has been handed, which is what a
# throughput window must count: a backlog's first batches are read and held
# in a fraction of the time applying them takes.
EVENTS_HELD = Gauge("healthscore_events_held", "Valid input events held for event-time alignment.")
# Input messages sent to cs.deadletter.v1, by the kind of problem.
EVENTS_REJECTED = Counter(
    "healthscore_events_rejected_total", "Input messages dead-lettered.", ["topic", "reason"]
)
# Input record batches the consumer could not decode (CRC mismatch, unknown
# codec, a payload that does not decompress or parse): each is dead-lettered
# whole and skipped (streams.speedups.undecodable), never applied in part.
UNDECODABLE_BATCHES = Counter(
    "healthscore_undecodable_batches_total",
    "Input record batches dead-lettered because they could not be decoded.",
    ["topic"],
)
# Valid events dropped because their id was already seen for the account.
EVENTS_DUPLICATE = Counter(
    "healthscore_events_duplicate_total", "Duplicate input events ignored.", ["topic"]
)
# From the cause's event time (or Kafka ingest time) to the score being emitted.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
EVENT_TO_SCORE_SECONDS = Histogram(
    "healthscore_event_to_score_seconds",
    "Delay from the causing event to its health score being emitted.",
    ["clock"],
    buckets=_LATENCY_BUCKETS,
)
EVENT_TO_ALERT_SECONDS = Histogram(
    "healthscore_event_to_alert_seconds",
    "Delay from the causing event to the alert being emitted.",
    ["clock"],
    buckets=_LATENCY_BUCKETS,
)
# Health changes, alerts and dunning steps emitted.
HEALTH_CHANGES = Counter("healthscore_health_changes_total", "Health score changes emitted.")
ALERTS_EMITTED = Counter("healthscore_alerts_total", "Risk alerts emitted.", ["type"])
DUNNING_STEPS = Counter("healthscore_dunning_steps_total", "Dunning steps emitted.", ["step"])
PAYMENT_FAILURES = Counter(
    "healthscore_payment_failures_total", "Failed payments seen.", ["decline_code"]
)
# Point-in-time views of this worker's accounts.
ACCOUNTS_BY_BAND = Gauge("healthscore_accounts", "Accounts owned by this worker.", ["band"])
DUNNING_CASES = Gauge("healthscore_dunning_cases", "Open dunning cases by state.", ["state"])
# The event-time clock: largest event time seen, per partition (unix seconds).
WATERMARK_SECONDS = Gauge(
    "healthscore_watermark_seconds", "Event-time watermark per partition.", ["partition"]
)
# Messages behind, per input partition this worker owns: the partition's end
# offset (high-water mark) minus the group's committed offset - Kafka's own
# definition (kafka-consumer-groups). Refreshed every HEALTHSCORE_LAG_INTERVAL
# seconds; a partition appears once the worker has fetched from it.
CONSUMER_LAG = Gauge(
    "healthscore_consumer_lag",
    "Input messages not yet committed by this worker, per partition.",
    ["topic", "partition"],
)
# Seconds since an owned input partition's committed offset last moved while
# it had lag (0 when caught up or moving): a silent stall shows as one series
# growing (streams/observability/progress.py). Same series as the lag gauge.
PARTITION_STALLED_SECONDS = Gauge(
    "healthscore_partition_stalled_seconds",
    "Seconds an input partition with lag has gone without its committed offset moving.",
    ["topic", "partition"],
)
# The last table recovery's duration, from the rebalance's assignment to the
# worker being ready (streams/worker/recovery.py); one that runs past
# HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS stops the worker instead.
TABLE_RECOVERY_SECONDS = Gauge(
    "healthscore_table_recovery_seconds",
    "Seconds this worker's last table recovery took (assignment to ready).",
)
# Batches and their cost: where the per-message time goes.
BATCH_SECONDS = Histogram(
    "healthscore_batch_seconds",
    "Time to process one batch of input messages.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
# Pauses of Python's cyclic garbage collector, by generation: a full (gen 2)
# collection walks every live object, and nothing is scored while it runs.
GC_PAUSE_SECONDS = Histogram(
    "healthscore_gc_pause_seconds",
    "Time the worker spent in one garbage collection.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

# Which build of the scoring engine this worker runs (streams/speedups/native.py): the
# compiled one uses ~1/3 less CPU per event, so a worker on the pure-Python
# fallback (a stale or missing build) is worth an alert before it falls behind.
ENGINE_COMPILED = Gauge(
    "healthscore_engine_compiled",
    "1 when the worker runs the mypyc-compiled scoring engine, 0 on pure Python.",
)


def observe_many(child: Any, amounts: Sequence[float]) -> None:
    """``child.observe(a)`` for every amount, with one lock per touched bucket
    rather than two per amount: a batch's outputs are observed together, two
    histograms each (``streams.processing.pipeline._observe``). Uses the histogram
    child's own bounds and values, so the exported series are the same
    (``tests/unit/streams/test_metrics.py`` compares with ``observe``)."""
    if not amounts:
        return
    bounds, buckets = child._upper_bounds, child._buckets
    counts = [0] * len(bounds)
    for amount in amounts:
        counts[bisect_left(bounds, amount)] += 1  # first bound >= amount; the last is +Inf
    child._sum.inc(sum(amounts))
    for i, count in enumerate(counts):
        if count:
            buckets[i].inc(count)
