"""``python -m streams worker``: run the healthscore worker."""

from __future__ import annotations

import asyncio
import gc
import sys


def main() -> None:
    """Load the compiled engine when built, then the app and its agent, then run."""
    from streams.speedups import native

    native.install()

    from streams.observability import metrics
    from streams.speedups import gcwatch
    from streams.worker import (
        exporter,  # noqa: F401  (registers the metrics server)
        recovery,  # noqa: F401  (measures and bounds table recovery)
    )
    from streams.worker.agents import track_accounts  # noqa: F401  (registers the agent)
    from streams.worker.app import app, settings
    from streams.worker.kafka_security import login_refusal

    # Faust retries a refused login forever, logging only "Unable to bootstrap":
    # a wrong password stops the worker at once, saying which login was refused.
    refusal = asyncio.run(login_refusal(settings.kafka_bootstrap_servers, settings))
    if refusal:
        sys.exit(f"healthscore worker: {refusal}")

    # The per-message path allocates many short-lived objects; at CPython's
    # default gen-0 threshold (700) the collector ran every few hundred events
    # and took 20-25 % of the worker's CPU. Long-lived objects loaded so far
    # are frozen out of collections altogether.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    gcwatch.watch(metrics.GC_PAUSE_SECONDS)
    app.main()


if __name__ == "__main__":
    main()
