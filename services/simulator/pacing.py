"""Pacing and the send loop shared by every sink (Kafka, JSON Lines).

A load generator is only useful if "50,000 events/s" means 50,000 events/s.
Sleeping per event cannot do that (asyncio's timer resolution is ~1 ms), so
the loop works in chunks: a token bucket refills continuously at ``rate`` and
holds at most 250 ms worth, each chunk takes what has accrued, and the loop
sleeps until about 2 ms worth has accrued again (waking for every single token
at 50k/s would spend the time on wake-ups and tiny chunks, and fall short of
the rate). The burst absorbs the loop's own stalls (a day of history being
generated, a GC pass) by catching up right after, so the rate holds over any
second; when the sink cannot keep up, the bucket caps and the rate is simply
what the sink achieves, without a longer catch-up burst afterwards.

The bucket starts empty: the burst is room to catch up after a stall, not a
head start. A full bucket sent 250 ms worth of events at once when a paced run
began (1,250 at 5k/s); the bench's latency phase measured that spike, not the
rate it offers: it made most of the phase's p99 (first-second p99 78-104 ms
against 27-66 ms in every later second, and a first-second p50 of 244 ms
in one slow run).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from services.simulator.generator import SimEvent

#: Largest chunk handed to a sink at once (also the chunk when unpaced).
MAX_CHUNK = 2_000
#: The bucket holds this many seconds of tokens: large enough to absorb the
#: event loop's stalls (generating a day of a 20k-account history takes ~100 ms)
#: without losing rate, small enough that a catch-up burst stays short.
BURST_SECONDS = 0.25
#: The loop sleeps until this many seconds of tokens have accrued (at least one).
QUANTUM_SECONDS = 0.002


class Feed(Protocol):
    """Where events come from (``EventFeed``, or the bench's live feed)."""

    @property
    def in_history(self) -> bool:
        """True while history events remain (live events carry wall time)."""
        ...

    def take(self, n: int, now: int) -> list[SimEvent]:
        """Up to ``n`` events due by ``now`` (epoch s); empty: exhausted."""
        ...


class Sink(Protocol):
    """Where events go; ``send`` may apply back-pressure by awaiting."""

    async def send(self, events: list[SimEvent]) -> None: ...


@dataclass(slots=True)
class TokenBucket:
    """Continuous-refill token bucket; pure (the caller passes ``now``).

    It holds at most ``floor(burst)`` whole tokens, plus the fraction of the next."""

    rate: float
    burst: float
    tokens: float = field(default=0.0)  # empty at the start: no head-start burst
    last: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")

    def take(self, want: int, now: float) -> int:
        """Take up to ``want`` whole tokens; returns how many were granted.

        The cap holds the whole tokens to ``burst`` but keeps the fraction
        accruing towards the next one: capping the total instead dropped that
        fraction whenever a poll found the bucket full, so a one-token bucket
        polled every 50 ms at 3/s granted a token per 350 ms, not per 333."""
        if self.last is not None:
            accrued = self.tokens + (now - self.last) * self.rate
            if accrued > self.burst:
                accrued = math.floor(self.burst) + accrued % 1.0
            self.tokens = accrued
        self.last = now
        granted = min(want, int(self.tokens))
        self.tokens -= granted
        return granted

    def delay(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` (capped at the burst) have accrued, after ``take``."""
        return max(0.0, (min(tokens, self.burst) - self.tokens) / self.rate)


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report: totals so far and the rate over the last interval."""

    sent: int
    rate: float
    live: bool


async def pump(
    feed: Feed,
    sink: Sink,
    *,
    rate: float,
    stop: asyncio.Event,
    progress: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> int:
    """Move events from ``feed`` to ``sink`` at ``rate`` (0 = unpaced) until the
    feed is exhausted or ``stop`` is set; returns the number of events sent."""
    bucket = TokenBucket(rate, max(1.0, rate * BURST_SECONDS)) if rate > 0 else None
    quantum = max(1.0, rate * QUANTUM_SECONDS)
    sent = reported = 0
    last_report = clock()
    while not stop.is_set():
        now = clock()
        want = MAX_CHUNK
        if bucket is not None:
            want = bucket.take(MAX_CHUNK, now)
            if want == 0:
                await asyncio.sleep(bucket.delay(quantum))
                continue
        events = feed.take(want, int(wall_clock()))
        if not events:
            break
        await sink.send(events)
        sent += len(events)
        if progress is not None and now - last_report >= 1.0:
            progress(Progress(sent, (sent - reported) / (now - last_report), not feed.in_history))
            reported, last_report = sent, now
        if bucket is None:
            await asyncio.sleep(0)  # let signal handlers and the producer's I/O run
    return sent


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM for the duration, so the loop ends between
    chunks and the sink is flushed, instead of dying mid-batch."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
