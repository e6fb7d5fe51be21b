"""Dead-lettering: a reject is data, not a crash.

Every message that breaks the contract is wrapped whole (original bytes,
topic, partition, offset, reason) and sent to ``cs.deadletter.v1``; the worker
goes on. ``DeadLetterLimit`` stops it when nearly everything is invalid (a
producer sending the wrong format), because draining a whole topic into the
dead-letter topic helps no one (cf. arroyo's ``DlqLimit``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat

import orjson

from schemas.deadletter import DeadLetter
from schemas.errors import HealthscoreError, InvalidEventError
from schemas.topics import ACCOUNTS, DEADLETTER, TYPE_TO_TOPIC
from streams.domain.events import AccountProfile, DomainEvent
from streams.observability import metrics

log = logging.getLogger(__name__)

#: (topic, key, value), as the batching sink takes them.
Record = tuple[str, bytes, bytes]


class TooManyInvalidEventsError(HealthscoreError):
    """Most recent inputs were invalid: a producer is probably sending the
    wrong format. Fix the producer (see cs.deadletter.v1 for reasons), then
    restart the worker; offsets were not committed past the last batch."""


@dataclass(slots=True)
class DeadLetterLimit:
    """Trips when more than ``max_ratio`` of the last ``window`` inputs were invalid."""

    max_ratio: float
    window: int = 1000
    _outcomes: deque[bool] = field(default_factory=deque)
    _invalid: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.max_ratio <= 1:
            raise ValueError("max_ratio must be in (0, 1]")
        if self.window < 1:
            raise ValueError("window must be >= 1")

    def record(self, valid: bool) -> None:
        self._outcomes.append(valid)
        self._invalid += not valid
        if len(self._outcomes) > self.window:
            self._invalid -= not self._outcomes.popleft()
        if len(self._outcomes) == self.window:
            self._check_full_window()

    def record_valid(self, count: int) -> None:
        """``record(True)`` ``count`` times, without a Python step per event:
        valid outcomes only push older ones out, so the limit can trip only at
        the moment the window first fills up, with the rejects it holds now."""
        if len(self._outcomes) < self.window <= len(self._outcomes) + count:
            self._check_full_window()  # as it will be the moment it fills up
        if count >= self.window:
            self._outcomes, self._invalid = deque(repeat(True, self.window)), 0
            return
        outcomes = self._outcomes
        outcomes.extend(repeat(True, count))
        excess = len(outcomes) - self.window
        if excess <= 0:
            return
        if self._invalid == 0:  # all True: trimming changes no count
            self._outcomes = deque(repeat(True, self.window))
            return
        for _ in range(excess):
            self._invalid -= not outcomes.popleft()

    def _check_full_window(self) -> None:
        if self._invalid > self.max_ratio * self.window:
            raise TooManyInvalidEventsError(
                f"{self._invalid} of the last {self.window} input messages were invalid"
            )


def dead_letter_value(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    error: InvalidEventError,
    now: datetime | None = None,
    last_offset: int | None = None,
) -> bytes:
    raw = value or b""
    truncated = len(raw) > MAX_VALUE_BYTES or (key is not None and len(key) > MAX_KEY_BYTES)
    record = DeadLetter(
        topic=topic,
        partition=partition,
        offset=offset,
        last_offset=last_offset,
        key_b64=base64.b64encode(key[:MAX_KEY_BYTES]).decode() if key is not None else None,
        value_b64=base64.b64encode(raw[:MAX_VALUE_BYTES]).decode(),
        truncated=truncated,
        sha256=hashlib.sha256(raw).hexdigest() if truncated else None,
        reason=error.reason[:MAX_REASON_CHARS],
        errors=[e[:MAX_REASON_CHARS] for e in error.errors[:20]],
        size_bytes=len(raw),
        rejected_at=now or datetime.now(UTC),
    )
    return record.model_dump_json().encode()


#: The most of an input's value and key a dead letter carries. An input may
#: be as large as the broker takes (1 MiB by default), and base64 makes it a
#: third larger: the whole of it would take the dead letter past that limit,
#: its send would fail, and so would every restart's. Past these sizes the
#: dead letter keeps the first bytes, the whole size and its SHA-256.
MAX_VALUE_BYTES = 256 * 1024
MAX_KEY_BYTES = 4 * 1024
#: Reasons and errors quote the input at times; 20 of these stay a few KiB.
MAX_REASON_CHARS = 1024


def engine_failures(failed: Iterable[tuple[int, DomainEvent, str, str]]) -> list[Record]:
    """Dead letters for inputs that passed validation but that their step
    refused (``too_old``) or raised on (``engine_error``;
    ``PartitionEngine.failed``): the decoded input (its original bytes are not
    kept past decoding), the partition, and the error. Logged without the
    payload, counted as rejects of their kind."""
    out: list[Record] = []
    for partition, event, error, kind in failed:
        topic = TYPE_TO_TOPIC.get(getattr(event, "kind", ""), "")
        if isinstance(event, AccountProfile):
            topic = ACCOUNTS
        key = event.account_id.encode()
        reason = f"processing raised {error}" if kind == "engine_error" else error
        value = dead_letter_value(
            topic=topic,
            partition=partition,
            offset=-1,
            key=key,
            value=orjson.dumps(event),
            error=InvalidEventError(reason, kind=kind),
        )
        out.append((DEADLETTER, key, value))
        metrics.EVENTS_REJECTED.labels(topic, kind).inc()
        raised = kind == "engine_error"  # a bug, or an input no check foresaw
        log.log(
            logging.ERROR if raised else logging.WARNING,
            "input dead-lettered: processing raised" if raised else "input dead-lettered",
            extra={"topic": topic, "partition": partition, "account_id": event.account_id,
                   "input_id": event.id, "reason_kind": kind, "error": error[:MAX_REASON_CHARS]},
        )  # fmt: skip
    return out
