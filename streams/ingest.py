"""Decode a batch of raw input messages: valid ones become domain events,
rejects go to the dead-letter topic with their origin and reason.

Split from the agent so the decision (which message is valid, what the dead
letter says) is testable without a broker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from schemas.errors import InvalidEventError
from streams.deadletter import dead_letter_value
from streams.domain.events import DomainEvent
from streams.fastdecode import decode_domain


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # Kafka record time (seconds), for ingest latency


@dataclass(frozen=True, slots=True)
class Accepted:
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


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    accepted: list[Accepted]
    rejected: list[Rejected]
    consumed: Counter[str]


def decode_batch(messages: Iterable[RawMessage], now: datetime | None = None) -> DecodedBatch:
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    consumed: Counter[str] = Counter()
    for msg in messages:
        consumed[msg.topic] += 1
        try:
            event = decode_domain(msg.topic, msg.value or b"")
        except InvalidEventError as err:
            record = dead_letter_value(
                topic=msg.topic,
                partition=msg.partition,
                offset=msg.offset,
                key=msg.key,
                value=msg.value,
                error=err,
                now=now,
            )
            origin = (msg.partition, msg.offset, err.reason)
            rejected.append(Rejected(msg.topic, msg.key, err.kind, record, *origin))
            continue
        accepted.append(Accepted(msg.partition, event, msg.timestamp))
    return DecodedBatch(accepted, rejected, consumed)
