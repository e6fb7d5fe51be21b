"""How long a table recovery takes, and whether it has run past its bound.

After every rebalance a Faust worker restores its tables from their
changelogs before it processes anything, and nothing bounds that: a
recovery that cannot reach the changelog's end (faust-streaming #432, #74)
leaves the worker up, heartbeating and owning its partitions, with nothing
consumed - for ever. ``RecoveryTimer`` measures each recovery (from the
assignment to the worker being ready again) and says when one has run
longer than allowed; ``streams.worker.recovery`` reports the first and
stops the worker on the second, so the orchestrator restarts it and an
operator sees the restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RecoveryTimer:
    """Start and end of the recovery under way. Faust calls the start from
    its consumer thread and the end from the event loop: a lock keeps a pair
    of reads consistent."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started: float | None = None

    def begin(self) -> None:
        """A rebalance handed this worker its partitions: recovery starts
        (again, if one was under way: the new assignment restarts it)."""
        with self._lock:
            self._started = self._clock()

    def end(self) -> float | None:
        """The recovery finished: its seconds (None if none was under way)."""
        with self._lock:
            started, self._started = self._started, None
        return None if started is None else self._clock() - started

    def running_for(self) -> float | None:
        """Seconds the recovery under way has taken so far; None: none is."""
        with self._lock:
            started = self._started
        return None if started is None else self._clock() - started

    def overdue(self, bound_s: float) -> float | None:
        """The seconds taken, if the recovery under way has passed ``bound_s``."""
        taken = self.running_for()
        return taken if taken is not None and taken > bound_s else None
