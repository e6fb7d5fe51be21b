"""Time every garbage collection the worker runs, and keep them short.

Per-account state is millions of small objects, and while a collection runs
no event is scored, so its length lands directly on event-to-alert latency.
Each pause is observed in ``healthscore_gc_pause_seconds{generation}``, and a
long one is logged, so an operator can tell a GC stall from a slow broker.

Why the worker freezes its heap every second (``freeze_young``): CPython
starts a young collection when allocations *minus deallocations* pass the
threshold, and the hot path frees an old state object for nearly every one it
allocates, so the young generation grew to a million live objects between
collections: measured at 50k accounts, young collections of up to 0.45 s, a
generation-1 collection of 0.49-0.58 s and a full one of ~1 s. Moving the
young objects to the permanent generation (``gc.freeze``) every second keeps
any collection to about a second's allocations, and the old state is never
walked again.

The freeze does not collect the young generation first. It used to, and at
1M events over 50k accounts those 36 young collections found nothing (0
objects: state is a tree of dataclasses and tuples, without cycles, and the
rest of the worker's garbage dies by reference counting) while walking each
second's ~25k survivors took 40 ms on average, up to 156 ms; dropping the
walk cut the worker's CPU per event by 9-11 % on both brokers
(``docs/scaling.md``). Objects that are not in a cycle are
freed by reference counting whether frozen or not; the price is that a
reference cycle that becomes garbage is only reclaimed by the periodic full
collection (``collect_all``, hourly by default), which logs how much it
found, so a workload that does make cycles shows it.
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


def freeze_young() -> None:
    """Freeze every tracked object, without a collection (a constant-time
    list splice): see the module docstring for why nothing is collected."""
    gc.freeze()


def collect_all() -> int:
    """Unfreeze, run a full collection, freeze again: reclaims cycles that died
    after being frozen (logged with their count, the measure of that cost)."""
    started = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    log.info(
        "full garbage collection",
        extra={
            "collected": collected,
            "frozen_objects": gc.get_freeze_count(),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    return collected
