"""Time every garbage collection the worker runs.

Per-account state is millions of small objects: a full (generation 2)
collection walks all of them, and while it runs no event is scored, so its
length lands directly on event-to-alert latency. Each pause is observed in
``healthscore_gc_pause_seconds{generation}``, and a long one is logged, so an
operator can tell a GC stall from a slow broker.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Histogram

log = logging.getLogger(__name__)

#: A pause at least this long is logged as a warning (the p99 latency target).
WARN_SECONDS = 0.25

Callback = Callable[[str, dict[str, Any]], None]


def watch(
    histogram: Histogram,
    *,
    warn_seconds: float = WARN_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> Callback:
    """Register a ``gc.callbacks`` hook timing each collection; returns it
    (pass it to ``unwatch`` to remove it)."""
    children = [histogram.labels(str(generation)) for generation in range(3)]
    started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = clock()
            return
        seconds = clock() - started[0]
        generation = info["generation"]
        children[generation].observe(seconds)
        if seconds >= warn_seconds:
            log.warning(
                "long garbage collection",
                extra={
                    "generation": generation,
                    "seconds": round(seconds, 3),
                    "collected": info.get("collected"),
                    "frozen_objects": gc.get_freeze_count(),
                },
            )

    gc.callbacks.append(on_gc)
    return on_gc


def unwatch(callback: Callback) -> None:
    if callback in gc.callbacks:
        gc.callbacks.remove(callback)
