"""Where each pipeline process serves ``/metrics``, from the environment it gets.

One table used by ``healthscore stack`` for its summary and for the
Prometheus it starts, so the scrape targets are the ports the processes
actually bind (the same variables, the same defaults as their settings), and
the job names match ``deploy/prometheus/prometheus.yml`` - the rules and the
dashboard select on them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from services.stack.prometheus import ScrapeTarget


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    process: str  # name in the stack (ProcessSpec.name)
    job: str  # Prometheus job label, as in production
    port_var: str
    default_port: int


ENDPOINTS = (
    MetricsEndpoint("worker", "healthscore-worker", "HEALTHSCORE_WORKER_METRICS_PORT", 9101),
    MetricsEndpoint("api", "healthscore-api", "HEALTHSCORE_API_PORT", 8000),
    MetricsEndpoint(
        "readmodel", "healthscore-projector", "HEALTHSCORE_READMODEL_METRICS_PORT", 9102
    ),
    MetricsEndpoint("notifier", "healthscore-notifier", "HEALTHSCORE_NOTIFIER_METRICS_PORT", 9103),
)


def metrics_addresses(env: Mapping[str, str], host: str = "127.0.0.1") -> dict[str, str]:
    """process name -> ``host:port`` of its /metrics; processes with port 0 (off) left out."""
    out = {}
    for endpoint in ENDPOINTS:
        port = int(env.get(endpoint.port_var) or endpoint.default_port)
        if port:
            out[endpoint.process] = f"{host}:{port}"
    return out


def scrape_targets(
    addresses: Mapping[str, str], running: Collection[str] | None = None
) -> list[ScrapeTarget]:
    """One target per process in ``addresses`` (that is ``running``, if given)."""
    return [
        ScrapeTarget(e.job, addresses[e.process])
        for e in ENDPOINTS
        if e.process in addresses and (running is None or e.process in running)
    ]
