"""The event-time range a backtest looks at, and the JSON Lines source.

``--since`` / ``--until`` select events by *event time* (their ``time``
field), the clock everything in the engine runs on, whichever source the
history comes from; so a file and the topics it was produced to give the same
backtest over the same range. ``--until`` is also where every account's clock
is moved after the last event (the live tick), as before.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from services.replay import ReplaySummary, read_events
from streams.domain.events import DomainEvent

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Window:
    """``[since_s, until_s)`` in epoch seconds; None leaves that end open."""

    since_s: int | None = None
    until_s: int | None = None

    def __post_init__(self) -> None:
        since, until = self.since_s, self.until_s
        if since is not None and until is not None and since >= until:
            raise ValueError(f"--since ({_iso(since)}) must be before --until ({_iso(until)})")

    def before(self, at: datetime) -> bool:
        return self.since_s is not None and at.timestamp() < self.since_s

    def after(self, at: datetime) -> bool:
        return self.until_s is not None and at.timestamp() >= self.until_s

    def within(self, events: Iterable[DomainEvent]) -> Generator[DomainEvent, None, None]:
        for event in events:
            if not (self.before(event.at) or self.after(event.at)):
                yield event


class Source(Protocol):
    """Where a history comes from: a file (below) or the input topics
    (:class:`~services.backtest.kafka_history.KafkaSource`)."""

    def describe(self) -> str: ...

    def events(
        self, window: Window, summary: ReplaySummary, progress: Progress | None
    ) -> Generator[DomainEvent, None, None]:
        """The valid events of ``window``, roughly in event-time order; an invalid
        input is counted in ``summary.rejected``."""
        ...


@dataclass(frozen=True, slots=True)
class FileSource:
    """A JSON Lines history (one input event per line)."""

    path: Path

    def describe(self) -> str:
        return str(self.path)

    def events(
        self, window: Window, summary: ReplaySummary, progress: Progress | None = None
    ) -> Generator[DomainEvent, None, None]:
        return window.within(read_events(self.path, summary))


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")
