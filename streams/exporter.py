"""Serve the worker's Prometheus metrics once the worker starts (not at import)."""

from __future__ import annotations

from prometheus_client import start_http_server

from streams.app import app, settings


@app.task
async def serve_metrics() -> None:
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
