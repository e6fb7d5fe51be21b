"""The metric names the deploy files may use, per process, with type and labels.

This is the agreed list (the design brief). The dashboard and rule tests check
that every name they reference is here; the exposition tests check that each
process's real registry declares only names from here with these labels. A
rename in code or in a dashboard therefore fails a test instead of leaving an
empty panel or an alert that can never fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    process: Literal["worker", "api", "notifier"]
    kind: Kind
    labels: tuple[str, ...] = ()


CATALOG: dict[str, MetricSpec] = {
    # worker (streams/observability/metrics.py)
    "healthscore_events_consumed_total": MetricSpec("worker", "counter", ("topic",)),
    "healthscore_events_rejected_total": MetricSpec("worker", "counter", ("topic", "reason")),
    "healthscore_events_duplicate_total": MetricSpec("worker", "counter", ("topic",)),
    "healthscore_events_held": MetricSpec("worker", "gauge"),
    "healthscore_undecodable_batches_total": MetricSpec("worker", "counter", ("topic",)),
    "healthscore_event_to_score_seconds": MetricSpec("worker", "histogram", ("clock",)),
    "healthscore_event_to_alert_seconds": MetricSpec("worker", "histogram", ("clock",)),
    "healthscore_health_changes_total": MetricSpec("worker", "counter"),
    "healthscore_alerts_total": MetricSpec("worker", "counter", ("type",)),
    "healthscore_dunning_steps_total": MetricSpec("worker", "counter", ("step",)),
    "healthscore_payment_failures_total": MetricSpec("worker", "counter", ("decline_code",)),
    "healthscore_accounts": MetricSpec("worker", "gauge", ("band",)),
    "healthscore_dunning_cases": MetricSpec("worker", "gauge", ("state",)),
    "healthscore_watermark_seconds": MetricSpec("worker", "gauge", ("partition",)),
    "healthscore_batch_seconds": MetricSpec("worker", "histogram"),
    "healthscore_gc_pause_seconds": MetricSpec("worker", "histogram", ("generation",)),
    "healthscore_engine_compiled": MetricSpec("worker", "gauge"),
    "healthscore_consumer_lag": MetricSpec("worker", "gauge", ("topic", "partition")),
    "healthscore_partition_stalled_seconds": MetricSpec("worker", "gauge", ("topic", "partition")),
    "healthscore_table_recovery_seconds": MetricSpec("worker", "gauge"),
    # API process (also serves the read-model projector's metrics)
    "healthscore_http_requests_total": MetricSpec("api", "counter", ("route", "method", "status")),
    "healthscore_http_request_duration_seconds": MetricSpec(
        "api", "histogram", ("route", "method")
    ),
    "healthscore_events_ingested_total": MetricSpec("api", "counter", ("topic",)),
    "healthscore_source_events_total": MetricSpec("api", "counter", ("source", "outcome")),
    "healthscore_readmodel_updates_total": MetricSpec("api", "counter", ("kind",)),
    "healthscore_readmodel_records_total": MetricSpec("api", "counter", ("topic",)),
    # notifier
    "healthscore_deliveries_total": MetricSpec("notifier", "counter", ("channel", "outcome")),
    "healthscore_delivery_duration_seconds": MetricSpec("notifier", "histogram", ("channel",)),
    "healthscore_delivery_latency_seconds": MetricSpec("notifier", "histogram", ("channel",)),
    "healthscore_delivery_queue_depth": MetricSpec("notifier", "gauge"),
    "healthscore_delivery_dead_letters": MetricSpec("notifier", "gauge"),
    "healthscore_dispatch_matched_total": MetricSpec("notifier", "counter", ("type",)),
    "healthscore_dispatch_invalid_total": MetricSpec("notifier", "counter", ("topic",)),
}

#: Series names PromQL may reference: histograms expose _bucket/_sum/_count.
SERIES_NAMES: frozenset[str] = frozenset(
    series
    for name, spec in CATALOG.items()
    for series in (
        (f"{name}_bucket", f"{name}_sum", f"{name}_count") if spec.kind == "histogram" else (name,)
    )
)

#: Series Prometheus itself produces that rules and panels may use.
BUILTIN_SERIES: frozenset[str] = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})
