"""The worker's operational timers: serve its Prometheus metrics once the
worker starts (not at import), keep the consumer-lag and stalled-partition gauges current, and keep
garbage collections short (``streams.speedups.gcwatch``)."""

from __future__ import annotations

import logging
from typing import Any

from faust.exceptions import ConsumerNotStarted
from prometheus_client import start_http_server

from schemas.topics import INPUT_TOPICS
from streams.observability import metrics
from streams.observability.lag import PartitionGauge, PartitionKey, consumer_lag
from streams.observability.progress import ProgressWatch
from streams.speedups import gcwatch, native
from streams.worker.app import app, settings

log = logging.getLogger(__name__)
_lag = PartitionGauge(metrics.CONSUMER_LAG)
_stalled = PartitionGauge(metrics.PARTITION_STALLED_SECONDS)
_progress = ProgressWatch()


@app.task  # type: ignore[untyped-decorator]  # Faust's app.task is untyped
async def serve_metrics() -> None:
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    # Once, where logging is set up: which build scores (also the gauge
    # healthscore_engine_compiled). The pure one needs ~1.3x the CPU per
    # event, worth a warning (a worker logs warnings and up by default).
    engine = native.status()
    metrics.ENGINE_COMPILED.set(int(native.in_use()))
    if native.in_use():
        log.info("scoring engine: compiled (%s)", engine.reason)
    else:
        log.warning("scoring engine: pure Python, ~1.3x the CPU per event (%s)", engine.reason)


def _highwater(consumer: Any) -> Any:
    def read(tp: Any) -> int | None:
        # The assignment may change under us (the consumer runs in its own
        # thread): a partition revoked since assignment() was read is skipped.
        try:
            value = consumer.highwater(tp)
        except (AssertionError, AttributeError):
            return None
        return int(value) if value is not None else None

    return read


@app.timer(settings.lag_interval)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
async def update_consumer_lag() -> None:
    # Any: Faust's ConsumerT declares neither its committed offsets (read below)
    # nor a public accessor for them.
    consumer: Any = app.consumer
    try:
        assigned = consumer.assignment()
    except ConsumerNotStarted:
        return
    # Faust keeps the offsets it committed per partition (next offset to read);
    # there is no public accessor for them.
    committed = dict(consumer._committed_offset)
    lag = consumer_lag(assigned, _highwater(consumer), committed, INPUT_TOPICS)
    _lag.publish(lag)
    done = {PartitionKey(tp.topic, tp.partition): offset for tp, offset in committed.items()}
    _stalled.publish(_progress.observe(lag, done))


if settings.gc_freeze_seconds:

    @app.timer(settings.gc_freeze_seconds)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
    async def freeze_young_objects() -> None:
        gcwatch.freeze_young()

    @app.timer(settings.gc_full_seconds)  # type: ignore[untyped-decorator]  # Faust's app.timer is untyped
    async def collect_all_objects() -> None:
        gcwatch.collect_all()
