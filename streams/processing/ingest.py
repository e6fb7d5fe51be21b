"""Decode a batch of raw input messages: valid ones become domain events,
rejects go to the dead-letter topic with their origin and reason.

Split from the agent so the decision (which message is valid, what the dead
letter says) is testable without a broker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from schemas.errors import InvalidEventError
from streams.domain.events import DomainEvent
from streams.processing.deadletter import dead_letter_value
from streams.processing.decode import decode_domain


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # Kafka record time (seconds), for ingest latency


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A record batch the consumer could not decode: its CRC did not match, its
    codec is unknown, or its payload would not decompress or parse. The
    consumer hands over one record in its place (``streams.speedups.
    undecodable``), carrying this as ``undecodable``, with the batch's last
    offset and an empty value, which no topic decodes; so the batch is
    dead-lettered whole, as one reject, and acked with the rest of the
    fetch, and no record of it is ever applied."""

    first_offset: int
    error: str
    #: The batch as fetched; ``dead_letter_value`` bounds what it carries.
    raw: bytes


class Accepted(NamedTuple):
    """A valid input. A named tuple, not a frozen dataclass: one is built per
    event, and a frozen dataclass's ``__init__`` cost twice as much."""

    partition: int
    event: DomainEvent
    ingested_at: float | None


@dataclass(frozen=True, slots=True)
class Rejected:
    topic: str
    key: bytes | None
    kind: str
    value: bytes  # the dead-letter record, ready to send
    partition: int = -1
    offset: int = -1
    reason: str = ""


#: (topic, partition) -> (first offset read, next offset to read).
ReadSpans = dict[tuple[str, int], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    accepted: list[Accepted]
    rejected: list[Rejected]
    consumed: Counter[str]
    #: Where the batch started and ended in each input partition: a new
    #: owner's clock is chosen by where it starts (``streams.processing.clock``).
    read: ReadSpans = field(default_factory=dict)
    #: The event time of the last valid input read from each input partition
    #: (``streams.processing.align``).
    frontier: dict[tuple[str, int], datetime] = field(default_factory=dict)


def decode_batch(
    messages: Iterable[RawMessage],
    now: datetime | None = None,
    *,
    timestamp_scale: float = 1.0,
    limit: datetime | None = None,
) -> DecodedBatch:
    """``timestamp_scale`` turns the messages' timestamps into seconds: 0.001
    for aiokafka's records as fetched (``streams.speedups.fetched``), 1 for Faust's.
    ``limit``: the latest event time an input may have (``streams.processing.
    horizon``); later ones are rejected as ``future_time``."""
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    consumed: Counter[str] = Counter()
    read: ReadSpans = {}
    frontier: dict[tuple[str, int], datetime] = {}
    # A fetched batch is a few long runs of one partition's messages: they
    # are counted and spanned once per run, not per message.
    topic, partition, first, offset, run = "", -1, 0, 0, 0
    last_at: datetime | None = None
    for msg in messages:
        if msg.topic != topic or msg.partition != partition:
            if run:
                _close_run(read, consumed, (topic, partition), first, offset, run)
                if last_at is not None:
                    frontier[topic, partition] = last_at
            topic, partition, first, run = msg.topic, msg.partition, msg.offset, 0
            last_at = None
        run += 1
        offset = msg.offset
        try:
            event = decode_domain(topic, msg.value or b"")
            if limit is not None and event.at > limit:
                raise _too_far_ahead(event.at, limit)
        except InvalidEventError as err:
            rejected.append(_reject(msg, err, now))
            continue
        last_at = event.at
        stamp = msg.timestamp
        accepted.append(
            Accepted(partition, event, None if stamp is None else stamp * timestamp_scale)
        )
    if run:
        _close_run(read, consumed, (topic, partition), first, offset, run)
        if last_at is not None:
            frontier[topic, partition] = last_at
    return DecodedBatch(accepted, rejected, consumed, read, frontier)


def _reject(msg: RawMessage, err: InvalidEventError, now: datetime | None) -> Rejected:
    """The dead letter of one input, or of a whole undecodable batch."""
    batch: Undecodable | None = getattr(msg, "undecodable", None)
    value, first, last = msg.value, msg.offset, None
    if batch is not None:
        value, first, last = batch.raw, batch.first_offset, msg.offset
        err = InvalidEventError(
            f"record batch at offsets {first}-{last} could not be decoded: {batch.error}",
            kind="undecodable_batch",
        )
    record = dead_letter_value(
        topic=msg.topic,
        partition=msg.partition,
        offset=first,
        key=msg.key,
        value=value,
        error=err,
        now=now,
        last_offset=last,
    )
    return Rejected(msg.topic, msg.key, err.kind, record, msg.partition, first, err.reason)


def _too_far_ahead(at: datetime, limit: datetime) -> InvalidEventError:
    return InvalidEventError(
        f"event time {at.isoformat()} is beyond {limit.isoformat()}, the latest accepted"
        " now (HEALTHSCORE_MAX_FUTURE_SECONDS ahead of the wall clock)",
        kind="future_time",
    )


def _close_run(
    read: ReadSpans,
    consumed: Counter[str],
    tp: tuple[str, int],
    first: int,
    last: int,
    count: int,
) -> None:
    consumed[tp[0]] += count
    span = read.get(tp)
    read[tp] = (first, last + 1) if span is None else (min(span[0], first), max(span[1], last + 1))
