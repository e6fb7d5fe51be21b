"""File replay: the same engine as the live worker, fed from JSON Lines."""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson

from schemas import topics
from schemas.errors import HealthscoreError, InvalidEventError
from streams.domain.account import Decision
from streams.domain.events import DomainEvent
from streams.domain.scoring.model import ModelError
from streams.processing.decode import decode_domain
from streams.processing.encode import encode
from streams.processing.engine import EVENT_ORDER, PartitionEngine
from streams.processing.partitioning import partition_for
from streams.processing.rules import load_rules

#: Events per engine call in a replay.
_SLICE = 1_000

_ONLY = {
    "health": topics.HEALTH,
    "alerts": topics.ALERTS,
    "dunning": topics.DUNNING,
    "lifecycle": topics.LIFECYCLE,
}


class ReplayError(HealthscoreError):
    """The replay could not run: the file or the model is unreadable."""


@dataclass
class ReplaySummary:
    events: int = 0
    rejected: int = 0
    outputs: Counter[str] = field(default_factory=Counter)
    final_scores: dict[str, float] = field(default_factory=dict)
    first_rejects: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"replayed {self.events} events ({self.rejected} rejected) "
            f"for {len(self.final_scores)} scored accounts",
        ]
        lines += [f"  {kind}: {count}" for kind, count in sorted(self.outputs.items())]
        lines += [f"  rejected {reason}" for reason in self.first_rejects]
        at_risk = sorted((s, a) for a, s in self.final_scores.items() if s < 60)
        lines += [f"  at risk: {a} {s:.1f}" for s, a in at_risk[:20]]
        return "\n".join(lines) + "\n"


def future_tolerance_s() -> float:
    """The worker's future-time tolerance, ``HEALTHSCORE_MAX_FUTURE_SECONDS``
    (``streams.processing.horizon``); ``ValueError`` when it is not a number."""
    from streams.processing.horizon import DEFAULT_MAX_FUTURE_SECONDS

    raw = os.environ.get("HEALTHSCORE_MAX_FUTURE_SECONDS", "")
    try:
        return float(raw) if raw else DEFAULT_MAX_FUTURE_SECONDS
    except ValueError:
        raise ValueError(f"HEALTHSCORE_MAX_FUTURE_SECONDS is not a number: {raw!r}") from None


def read_events(
    path: Path, summary: ReplaySummary, limit: datetime | None = None
) -> Iterator[DomainEvent]:
    """The file's valid events; one dated after ``limit`` is rejected, as the
    live worker dead-letters it (``streams.processing.horizon``)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = decode_domain(None, line.rstrip(b"\r\n"))
                if limit is not None and event.at > limit:
                    raise InvalidEventError(
                        f"event time {event.at.isoformat()} is beyond {limit.isoformat()}",
                        kind="future_time",
                    )
            except InvalidEventError as err:
                summary.rejected += 1
                if len(summary.first_rejects) < 10:
                    summary.first_rejects.append(f"line {number}: {err.reason}")
                continue
            summary.events += 1
            yield event


def replay_slices(
    events: Iterator[DomainEvent],
    engines: dict[int, PartitionEngine],
    partitions: int,
    until_s: float | None = None,
) -> Iterator[list[Decision]]:
    """What the engines decide for ``events``, partition by partition, a
    slice of each partition's events at a time (in the engine's order, so the
    cut changes nothing): a caller that encodes each slice keeps only records,
    not every decision of a whole file, for the garbage collector to walk."""
    by_partition: defaultdict[int, list[DomainEvent]] = defaultdict(list)
    for event in events:
        by_partition[partition_for(event.account_id, partitions)].append(event)
    for partition in sorted(by_partition):
        engine = engines[partition]
        ordered = sorted(by_partition[partition], key=EVENT_ORDER)
        for start in range(0, len(ordered), _SLICE):
            yield engine.process(ordered[start : start + _SLICE])
    if until_s is not None:
        # The live tick moves every partition's clock, also of partitions that
        # receive nothing more: without it silent accounts would not age here.
        for partition in sorted(engines):
            yield engines[partition].advance(until_s)


def replay_events(
    events: Iterator[DomainEvent], engines: dict[int, PartitionEngine], partitions: int
) -> list[Decision]:
    """What the engines decide for ``events``, partition by partition."""
    return [d for decided in replay_slices(events, engines, partitions) for d in decided]


def replay_file(
    path: Path,
    *,
    model_path: Path | None,
    partitions: int,
    output: str,
    only: str = "all",
    until_s: float | None = None,
    limit: datetime | None = None,
) -> ReplaySummary:
    try:
        rules = load_rules(model_path)
    except ModelError as exc:
        raise ReplayError(str(exc)) from None
    if partitions < 1:
        raise ReplayError("--partitions must be at least 1")
    summary = ReplaySummary()
    engines = {p: PartitionEngine(p, rules.model, rules.policies) for p in range(partitions)}
    threshold = rules.model.alerts.threshold
    slices = replay_slices(read_events(path, summary, limit), engines, partitions, until_s)
    emitted = [record for decided in slices for record in encode(decided, threshold)]
    for engine in engines.values():  # inputs whose step raised: the worker dead-letters them
        for event, error, kind in engine.take_failed():
            summary.rejected += 1
            if len(summary.first_rejects) < 10:
                because = f"processing raised {error}" if kind == "engine_error" else error
                summary.first_rejects.append(f"{event.id}: {because}")
    wanted = _ONLY.get(only)
    with _open_output(output) as sink:
        for record in emitted:
            summary.outputs[record.kind] += 1
            if record.topic == topics.HEALTH:
                data = orjson.loads(record.value)["data"]
                summary.final_scores[data["account_id"]] = data["score"]
            if wanted is None or record.topic == wanted:
                sink.write(record.value + b"\n")
    return summary


@contextmanager
def _open_output(output: str) -> Iterator[IO[bytes]]:
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = open(output, "wb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ReplayError(f"cannot write {output}: {exc.strerror}") from None
    with handle:
        yield handle
