"""End-to-end latency of the pipeline at a fixed offered load.

Method. With the worker caught up, the simulator's paced producer offers live
events (event time = now) at ``rate`` for ``seconds``. Every record carries a
Kafka timestamp stamped by its producer on this machine's clock: the bench's
producer stamps each input, the worker's producer each output. Latency of an
output = its timestamp - the timestamp of the input that caused it, which
includes producer lingering, the broker round trips, the worker's batching and
processing: "produce to output", as a subscriber sees it.

Matching an output to its cause, two ways:

- health / alert outputs: a CloudEvent's ``time`` is the event time of its
  cause and its key is the account. The cause is the latest input of that
  account with that event time (to the second) produced before the output.
  An account gets an event every ~accounts/rate seconds (10 s at 50k
  accounts and 5k/s), so the match is exact or, rarely, one of two inputs in
  the same second (then the later: a slight underestimate). Outputs with no
  such input (timer-driven ones, e.g. a reminder falling due) are counted as
  unmatched and left out.
- dead-letter markers: every ``marker_every``-th offered event is replaced by
  ``{"bench_marker": "<run>-<n>"}``, which breaks the contract, so the worker
  must dead-letter it with its original bytes: an exact match by marker id,
  through the same consumer, batching and emit path, whether or not the worker
  scores yet. It measures the reject path, which skips state and scoring.
"""

from __future__ import annotations

import base64
import bisect
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from schemas.topics import ALERTS, DEADLETTER, HEALTH
from services.bench.produce import MARKER_PREFIX, Counts, LiveFeed, produce_feed
from services.bench.readback import read_range, read_until_idle
from services.bench.runner import WorkerProcess, wait_consumed
from services.simulator import Simulation

MARKER_EVERY = 100
OUTPUT_TOPICS = (HEALTH, ALERTS)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1) of an ascending sequence."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(latencies: list[float], **extra: Any) -> dict[str, Any]:
    values = sorted(latencies)
    p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
    return {
        "samples": len(values),
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": values[-1] if values else None,
        **extra,
    }


def _epoch_second(text: str) -> int | None:
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except (TypeError, ValueError):
        return None


class Matcher:
    """Holds the offered inputs and matches outputs to them (see module docstring)."""

    def __init__(self, since_ms: int) -> None:
        self.since_ms = since_ms
        self.inputs: dict[tuple[bytes, int], list[int]] = defaultdict(list)
        self.markers: dict[str, int] = {}
        self.output_ms: list[float] = []
        #: (output timestamp, latency) in read order: latency over the phase.
        self.output_points: list[tuple[int, float]] = []
        self.output_unmatched = 0
        self.marker_ms: list[float] = []

    def add_input(self, record: ConsumerRecord[bytes, bytes]) -> None:
        value = record.value or b""
        if value.startswith(MARKER_PREFIX):
            self.markers[orjson.loads(value)["bench_marker"]] = record.timestamp
            return
        second = _epoch_second(orjson.loads(value).get("time"))
        if second is not None and record.key is not None:
            bisect.insort(self.inputs[(record.key, second)], record.timestamp)

    def add_output(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.timestamp < self.since_ms or not record.value:
            return
        if record.topic == DEADLETTER:
            self._add_dead_letter(record)
            return
        event = orjson.loads(record.value)
        second = _epoch_second(event.get("time"))
        key = record.key or str(event.get("subject", "")).encode()
        produced = self.inputs.get((key, second)) if second is not None else None
        i = bisect.bisect_right(produced, record.timestamp) if produced else 0
        if i == 0:
            self.output_unmatched += 1
            return
        assert produced is not None
        latency = record.timestamp - produced[i - 1]
        self.output_ms.append(latency)
        self.output_points.append((record.timestamp, latency))

    def _add_dead_letter(self, record: ConsumerRecord[bytes, bytes]) -> None:
        letter = orjson.loads(record.value or b"{}")
        original = base64.b64decode(letter.get("value_b64") or "")
        if original.startswith(MARKER_PREFIX):
            sent = self.markers.get(orjson.loads(original)["bench_marker"])
            if sent is not None:
                self.marker_ms.append(record.timestamp - sent)


def by_second(
    points: list[tuple[int, float]], since_ms: int, qs: Sequence[float] = (0.5,)
) -> list[list[float | None]]:
    """Per quantile in ``qs``, that quantile of the latency of the outputs emitted
    in each second of the phase (each second sorted once for all of them): a
    steady median means a steady delay, a climbing one a backlog; the 99th per
    second shows which seconds make the phase's p99."""
    buckets: defaultdict[int, list[float]] = defaultdict(list)
    for at_ms, latency in points:
        buckets[max(0, at_ms - since_ms) // 1000].append(latency)
    seconds = [sorted(buckets.get(s, ())) for s in range(max(buckets, default=-1) + 1)]
    return [[percentile(values, q) for values in seconds] for q in qs]


async def measure_latency(
    bootstrap: str,
    sim: Simulation,
    worker: WorkerProcess,
    group: str,
    counts_before: Counts,
    *,
    partitions: int,
    rate: float,
    seconds: float,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> tuple[dict[str, Any], Counts]:
    """Offer live events at ``rate`` to a caught-up worker; returns the latency
    report and the new produced counts (end offsets)."""
    total = max(1, int(rate * seconds))
    feed = LiveFeed(sim, total, MARKER_EVERY, uuid.uuid4().hex[:8])

    def report_progress(phase: str, done: int, of: int) -> None:
        if on_progress is not None:
            on_progress(phase, done, of)

    produced = await produce_feed(
        bootstrap,
        feed,
        partitions=partitions,
        rate=rate,
        on_progress=lambda p: report_progress("latency: offering", p.sent, total),
    )
    counts = {
        tp: counts_before.get(tp, 0) + produced.counts.get(tp, 0)
        for tp in set(counts_before) | set(produced.counts)
    }
    await wait_consumed(
        worker,
        bootstrap,
        group,
        counts,
        on_progress=lambda d, t: report_progress("latency: draining", d, t),
    )
    matcher = Matcher(produced.started_ms)
    await read_range(bootstrap, counts_before, counts, matcher.add_input)
    await read_until_idle(bootstrap, (*OUTPUT_TOPICS, DEADLETTER), matcher.add_output)
    markers = len(matcher.markers)
    p50_by_second, p99_by_second = by_second(
        matcher.output_points, produced.started_ms, (0.5, 0.99)
    )
    report = {
        "offered_rate": rate,
        "produced_rate": round(produced.rate, 1),
        "events": produced.events,
        "output": summary(
            matcher.output_ms, topics=list(OUTPUT_TOPICS), unmatched=matcher.output_unmatched
        ),
        "deadletter_marker": summary(
            matcher.marker_ms, markers=markers, missing=markers - len(matcher.marker_ms)
        ),
        "output_p50_by_second": p50_by_second,
        "output_p99_by_second": p99_by_second,
    }
    return report, counts
