"""``python -m streams worker``: run the healthscore worker."""

from __future__ import annotations

import gc

from streams import (
    exporter,  # noqa: F401  (registers the metrics server)
    gcwatch,
    metrics,
)
from streams.agents import track_accounts  # noqa: F401  (registers the agent)
from streams.app import app

if __name__ == "__main__":
    # The per-message path allocates many short-lived objects; at CPython's
    # default gen-0 threshold (700) the collector ran every few hundred events
    # and took 20-25 % of the worker's CPU (bench/bench_hot_path.py). Long-lived
    # objects loaded so far are frozen out of collections altogether.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    gcwatch.watch(metrics.GC_PAUSE_SECONDS)
    app.main()
