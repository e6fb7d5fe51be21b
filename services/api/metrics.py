"""Every metric the API exports, declared once (the projector's are in
``services.readmodel.metrics``).

Labels stay low-cardinality: the route *template* (``/v1/accounts/{account_id}/health``),
never the raw path, so one label value per endpoint, not per account.
With ``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn workers) prometheus-client
writes these to per-process files and ``/metrics`` aggregates them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

# Requests answered, by route template, method and status code.
HTTP_REQUESTS = Counter(
    "healthscore_http_requests_total",
    "HTTP requests answered.",
    ["route", "method", "status"],
)
# Time from request start to the last byte of the response (streams included).
HTTP_REQUEST_SECONDS = Histogram(
    "healthscore_http_request_duration_seconds",
    "HTTP request duration.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Events accepted over HTTP (POST /v1/events and the mapped /v1/sources/*) and
# acknowledged by the broker, by topic.
EVENTS_INGESTED = Counter(
    "healthscore_events_ingested_total",
    "Events produced to Kafka from the HTTP ingest endpoints.",
    ["topic"],
)
# Third-party payloads (POST /v1/sources/*), one per Stripe event or Segment
# call, by source (stripe, segment) and outcome (services.api.sources.common.Outcome:
# a fixed set, never the sender's event type, which is unbounded).
SOURCE_EVENTS = Counter(
    "healthscore_source_events_total",
    "Third-party events received on /v1/sources/*, by outcome.",
    ["source", "outcome"],
)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text and its content type, multiprocess-aware."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
