"""Many partitions in, one event-time order out, in bounded memory.

A history read from Kafka arrives as one stream per topic partition, each in
roughly event-time order, interleaved however the broker's fetches fall. The
backtest wants one stream in event-time order, as a JSON Lines history is.
This is a k-way merge by watermark: every source's latest event time seen is
a promise that it will not go much further back, so an event earlier than the
*lowest* of those (over the sources still being read) can go out. A source
far ahead of that watermark is best paused (``ahead``) so the laggard gets the
fetches, which is what keeps the buffer small.

The buffer is capped (``max_buffered``): past the cap the earliest event goes
out anyway. An event that then turns up earlier still is a late event to the
engine, exactly as it would be to the live worker; nothing is dropped. The
order among equal times is the engine's own batch order (``EVENT_ORDER``:
time, then id).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Iterator
from datetime import datetime
from typing import Generic, TypeVar

from streams.domain.events import DomainEvent

#: Events held back at most (a few hundred bytes each: ~100 MB at the cap).
DEFAULT_MAX_BUFFERED = 200_000

S = TypeVar("S", bound=Hashable)


class EventTimeMerge(Generic[S]):
    """Merge the events of ``sources`` (any hashable names) by event time."""

    def __init__(self, sources: Iterable[S], max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        if max_buffered < 1:
            raise ValueError("max_buffered must be at least 1")
        self._heap: list[tuple[datetime, str, int, DomainEvent]] = []
        self._seq = 0
        self._latest: dict[S, datetime | None] = dict.fromkeys(sources)
        self._max = max_buffered
        self.forced = 0
        """Events let out past the cap before the watermark reached them."""

    @property
    def buffered(self) -> int:
        return len(self._heap)

    @property
    def active(self) -> frozenset[S]:
        """The sources not finished yet."""
        return frozenset(self._latest)

    def seen(self, source: S, at: datetime) -> None:
        """``source`` has reached event time ``at`` (an event not kept still counts)."""
        latest = self._latest[source]
        if latest is None or at > latest:
            self._latest[source] = at

    def add(self, source: S, event: DomainEvent) -> None:
        self.seen(source, event.at)
        heapq.heappush(self._heap, (event.at, event.id, self._seq, event))
        self._seq += 1

    def finish(self, source: S) -> None:
        """``source`` has nothing more: it no longer holds the watermark back."""
        self._latest.pop(source, None)

    def watermark(self) -> datetime | None:
        """The lowest latest time of the active sources; None while one has none yet."""
        if not self._latest:
            return None
        times = self._latest.values()
        if any(t is None for t in times):
            return None
        return min(t for t in times if t is not None)

    def ahead(self) -> set[S]:
        """The active sources past the watermark (all with a time, while one has none)."""
        mark = self.watermark()
        return {s for s, t in self._latest.items() if t is not None and (mark is None or t > mark)}

    def ready(self) -> Iterator[DomainEvent]:
        """The events that can go out now, in order (all of them once every source finished)."""
        heap = self._heap
        mark = self.watermark()
        done = not self._latest
        while heap:
            at = heap[0][0]
            if not done and (mark is None or at >= mark):
                if len(heap) <= self._max:
                    return
                self.forced += 1
            yield heapq.heappop(heap)[3]
