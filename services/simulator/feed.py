"""Pull-based access to a simulation for the sinks: "give me up to n events now".

Both sinks (Kafka, a JSON Lines file) pace themselves and ask for as many
events as their token bucket allows; the feed serves the history's day batches
in slices, then, when following, live events stamped with the caller's clock.
It never reads the clock itself, so it stays as deterministic as the simulation.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.simulator.fragments import RawEvent
from services.simulator.generator import SimEvent, Simulation


class EventFeed:
    """History first, then (with ``follow``) live events, up to ``max_events`` in all.

    ``skip`` drops the history's first events unencoded, so a feed can be the
    *end* of a history: a benchmark that wants N events whose state is
    current at the history's end takes the last N (see ``services.bench``)."""

    def __init__(
        self,
        sim: Simulation,
        *,
        follow: bool = False,
        max_events: int | None = None,
        skip: int = 0,
    ) -> None:
        if max_events is not None and max_events < 0:
            raise ValueError("max_events must be >= 0")
        if skip < 0:
            raise ValueError("skip must be >= 0")
        self._sim = sim
        self._history: Iterator[list[RawEvent]] | None = sim.history_raw()
        self._buffer: list[RawEvent] = []
        self._pos = 0
        self._skip(skip)
        self._follow = follow
        self._remaining = max_events
        self.taken = 0

    @property
    def in_history(self) -> bool:
        """True while history events remain (live events are stamped with wall time)."""
        return self._history is not None or self._pos < len(self._buffer)

    def take(self, n: int, now: int) -> list[SimEvent]:
        """Up to ``n`` events; an empty list means the feed is exhausted."""
        if self._remaining is not None:
            n = min(n, self._remaining - self.taken)
        if n <= 0:
            return []
        while self._pos >= len(self._buffer) and self._history is not None:
            try:
                self._buffer, self._pos = next(self._history), 0
            except StopIteration:
                self._history, self._buffer, self._pos = None, [], 0
        if self._pos < len(self._buffer):
            events = self._sim.encode(self._buffer[self._pos : self._pos + n])
            self._pos += len(events)
        elif self._follow:
            events = self._sim.live_batch(now, n)
        else:
            events = []
        self.taken += len(events)
        return events

    def _skip(self, count: int) -> None:
        while count > 0 and self._history is not None:
            try:
                day = next(self._history)
            except StopIteration:
                self._history = None
                return
            if len(day) > count:
                self._buffer, self._pos = day, count
                return
            count -= len(day)
