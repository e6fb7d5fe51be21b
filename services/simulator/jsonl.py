"""Writing simulated events as JSON Lines: one input event per line.

The line is exactly the Kafka message value (compact JSON, UTF-8); the topic is
not written because each event's ``type`` implies it (``topics.TYPE_TO_TOPIC``)
and the key because it is the event's ``account_id``. That is the file format
``healthscore replay --from-file`` reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import BinaryIO

from services.simulator.feed import EventFeed
from services.simulator.generator import SimEvent
from services.simulator.pacing import Progress, pump, stop_on_signals


class JsonLinesSink:
    """Appends each event's value and a newline to a binary stream."""

    def __init__(self, stream: BinaryIO, *, flush_each_chunk: bool = False) -> None:
        self._stream = stream
        # Following live events, a reader (tail -f, a pipe) wants each chunk now.
        self._flush = flush_each_chunk

    async def send(self, events: list[SimEvent]) -> None:
        self._stream.write(b"\n".join([value for _, _, value in events]))
        self._stream.write(b"\n")
        if self._flush:
            self._stream.flush()


async def write_jsonl(
    feed: EventFeed,
    stream: BinaryIO,
    *,
    rate: float = 0,
    follow: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Write the feed's events to ``stream`` until it is exhausted or SIGINT/SIGTERM."""
    stop = asyncio.Event()
    sink = JsonLinesSink(stream, flush_each_chunk=follow or rate > 0)
    with stop_on_signals(stop):
        sent = await pump(feed, sink, rate=rate, stop=stop, progress=progress)
    stream.flush()
    return sent
