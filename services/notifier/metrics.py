"""Every metric the notifier exports, declared once.

Labels are low-cardinality: channel kind, outcome, event type; never
subscription ids or targets.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter, Gauge, Histogram, start_http_server

Outcome = Literal[
    "delivered", "retry_scheduled", "dead_lettered", "skipped_duplicate", "skipped_unsubscribed"
]

# One count per handled queue entry, by how it ended.
DELIVERIES = Counter(
    "healthscore_deliveries_total", "Delivery attempts by outcome.", ["channel", "outcome"]
)
# Wall time of one attempt through a channel (HTTP request or SMTP session).
DELIVERY_DURATION = Histogram(
    "healthscore_delivery_duration_seconds",
    "Duration of one delivery attempt.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# From first enqueue to delivered, retries included: what a subscriber waits.
DELIVERY_LATENCY = Histogram(
    "healthscore_delivery_latency_seconds",
    "Delay from enqueue to successful delivery.",
    ["channel"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600),
)
# Backlog: entries in the stream (new and in flight) plus those waiting to retry.
QUEUE_DEPTH = Gauge(
    "healthscore_delivery_queue_depth", "Deliveries in the stream plus the retry set."
)
# Deliveries given up on, waiting for an operator (alert when > 0).
DEAD_LETTERS = Gauge("healthscore_delivery_dead_letters", "Dead-lettered deliveries.")
# Event x subscription matches the dispatcher enqueued (new ones only).
DISPATCH_MATCHED = Counter(
    "healthscore_dispatch_matched_total", "Deliveries enqueued by event type.", ["type"]
)
# Output events the dispatcher could not route (not a CloudEvent).
DISPATCH_INVALID = Counter(
    "healthscore_dispatch_invalid_total", "Unroutable events skipped.", ["topic"]
)


def serve_metrics(port: int) -> None:
    """Expose /metrics on ``port`` (0 = off)."""
    if port:
        start_http_server(port)
