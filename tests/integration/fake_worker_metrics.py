"""A stand-in worker for Prometheus tests: serves the real worker metrics
(streams/observability/metrics.py) on 127.0.0.1 and keeps them moving.

    python -m tests.integration.fake_worker_metrics --seconds 120

Prints the bound port on the first line of stdout, then counts ~100 events/s
and observes event-to-alert latencies until --seconds pass (it always stops by
itself) or it is terminated.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from prometheus_client import start_http_server

from streams.observability import metrics


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    server, _thread = start_http_server(0, addr="127.0.0.1")
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    rng = random.Random(7)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        metrics.EVENTS_CONSUMED.labels(topic="cs.usage.v1").inc(10)
        metrics.EVENT_TO_ALERT_SECONDS.labels(clock="ingest").observe(rng.uniform(0.01, 0.5))
        time.sleep(0.1)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
