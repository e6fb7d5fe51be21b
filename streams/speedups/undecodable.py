"""An input record batch the consumer cannot decode is dead-lettered, not a
crash loop (aiokafka 0.14.0).

aiokafka decodes a fetched partition's batches lazily, as the records are
taken (``PartitionRecords._unpack_records``): a batch whose CRC does not
match raises ``CorruptRecordException``, one compressed with a codec it does
not know raises ``UnsupportedCodecError``, and a payload that does not
decompress or parse raises whatever the codec or the record parser raises.
The exception leaves ``getmany``, Faust's consumer loop stops the worker, and
the replacement fetches the same batch from the committed offset and stops
the same way: one bad batch halts its partition for good. Kafka's own
consumer stops likewise and leaves the seek past it to an operator.

For the input topics, the patched method decodes each batch whole before
handing over any record of it (a batch is applied entirely or not at all,
never in part), and in place of a batch it cannot decode yields one
``UndecodableRecord``: the batch's last offset, an empty value, and an
``Undecodable`` with the error and the batch's bytes. The pipeline
dead-letters it (reason kind ``undecodable_batch``, ``streams.processing.
ingest``) with the rest of the fetch, the fetch position moves past the
batch, and the record's offset is acked with its chunk (the batch's other
offsets are a gap, which Faust's commit skips as it does a compacted
topic's), so the commit moves past it and a restart does not meet it again.
Other topics (Faust's changelogs) keep aiokafka's behaviour: state must not
be skipped silently.

A batch's bytes are not kept by aiokafka's decoder, so the fetch response's
records are read through ``FramedRecords``, which remembers where the last
batch handed out lies in the response (every batch is its 12-byte log
header plus the length that header gives).

Kept as a copy of one method, pinned like ``streams.speedups.faust_patches``:
``install()`` refuses any other aiokafka version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiokafka
from aiokafka.consumer import fetcher
from aiokafka.record.memory_records import MemoryRecords

from streams.observability import metrics
from streams.processing.ingest import Undecodable

log = logging.getLogger(__name__)

PATCHED_AIOKAFKA_VERSION = "0.14.0"
_ORIGINAL_UNPACK = fetcher.PartitionRecords._unpack_records
_topics: frozenset[str] = frozenset()

#: The log header every batch format starts with: offset (8 bytes), length (4).
_LOG_OVERHEAD = 12


@dataclass(slots=True)
class UndecodableRecord:
    """The record handed over in place of an undecodable batch: the fields of
    aiokafka's ``ConsumerRecord``, which Faust's ``_to_message`` copies on
    the reference path, and the batch."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes
    checksum: None
    serialized_key_size: int
    serialized_value_size: int
    headers: tuple[tuple[str, bytes], ...]
    undecodable: Undecodable


class FramedRecords:
    """``MemoryRecords`` that also knows the bytes of the batch it handed out last."""

    __slots__ = ("_data", "_pos", "_records", "last")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._records = MemoryRecords(data)
        self._pos = 0
        #: (start, end) of the last batch in ``data``.
        self.last = (0, 0)

    def size_in_bytes(self) -> int:
        return int(self._records.size_in_bytes())

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        batch = self._records.next_batch()
        if batch is not None:
            start = self._pos
            length = int.from_bytes(self._data[start + 8 : start + _LOG_OVERHEAD], "big")
            self._pos = start + _LOG_OVERHEAD + length
            self.last = (start, self._pos)
        return batch

    def last_bytes(self) -> bytes:
        start, end = self.last
        return bytes(self._data[start:end])

    def next_base_offset(self) -> int | None:
        """The first offset of the next batch, if this response holds one:
        written by the broker, so still right when a batch's own header,
        which its CRC covers, is not."""
        if not self.has_next():
            return None
        return int.from_bytes(self._data[self._pos : self._pos + 8], "big", signed=True)


def _records(data: bytes) -> Any:
    """What the fetcher builds a fetch response's records with, once installed."""
    return FramedRecords(data)


def _unpack_records(self: Any) -> Iterator[Any]:
    """``PartitionRecords._unpack_records`` of aiokafka 0.14.0; the changes are
    marked ``healthscore``."""
    tp = self._tp
    records = self._records
    # healthscore: only the input topics, and only if their records are framed.
    if tp.topic not in _topics or not isinstance(records, FramedRecords):
        yield from _ORIGINAL_UNPACK(self)
        return
    while records.has_next():
        next_batch = records.next_batch()
        # healthscore: a CRC mismatch is dead-lettered, not raised.
        if self._check_crcs and not next_batch.validate_crc():
            error = f"CRC mismatch (stored {getattr(next_batch, 'crc', 'in each record')})"
            yield from _stand_in(self, records, next_batch, error)
            continue

        if self._isolation_level == fetcher.READ_COMMITTED and next_batch.producer_id is not None:
            self._consume_aborted_up_to(next_batch.base_offset)

            if next_batch.is_control_batch and self._contains_abort_marker(next_batch):
                self._aborted_producers.discard(next_batch.producer_id)

            if next_batch.is_transactional and next_batch.producer_id in self._aborted_producers:
                self.next_fetch_offset = next_batch.next_offset
                continue

        if next_batch.is_control_batch:
            self.next_fetch_offset = next_batch.next_offset
            continue

        # healthscore: the whole batch decoded before any record of it is handed over.
        try:
            decoded = list(next_batch)
        except Exception as exc:  # untrusted bytes: whatever the codec or parser raises
            yield from _stand_in(self, records, next_batch, f"{type(exc).__name__}: {exc}")
            continue

        for record in decoded:
            if record.offset < self.next_fetch_offset:
                continue
            consumer_record = self._consumer_record(tp, record)
            self.next_fetch_offset = record.offset + 1
            yield consumer_record

        self.next_fetch_offset = next_batch.next_offset


def _stand_in(
    partition_records: Any, records: FramedRecords, batch: Any, error: str
) -> Iterator[UndecodableRecord]:
    """The record handed over for an undecodable batch, and the position past
    it; none for a batch wholly before the position (aiokafka would hand over
    none of its records). The batch ends where the next one in the response
    begins, if there is one: its own header may be the corrupted part, and
    an offset count read from it could skip good batches after it."""
    tp = partition_records._tp
    position = partition_records.next_fetch_offset
    following = records.next_base_offset()
    end = batch.next_offset if following is None else following
    if end <= position:
        return
    # A legacy (v0/v1) batch names only its last offset.
    first = min(max(getattr(batch, "base_offset", position), position), end - 1)
    last = end - 1
    partition_records.next_fetch_offset = end
    raw = records.last_bytes()
    metrics.UNDECODABLE_BATCHES.labels(tp.topic).inc()
    log.error(
        "undecodable record batch skipped, handed over to be dead-lettered",
        extra={"topic": tp.topic, "partition": tp.partition, "first_offset": first,
               "last_offset": last, "size_bytes": len(raw), "error": error[:1024]},
    )  # fmt: skip
    yield UndecodableRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=last,
        timestamp=_timestamp(batch),
        timestamp_type=0,
        key=None,
        value=b"",
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=0,
        headers=(),
        undecodable=Undecodable(first_offset=first, error=error, raw=raw),
    )


def _timestamp(batch: Any) -> int:
    """The batch's largest timestamp (ms) if its header has one, else -1."""
    stamp = getattr(batch, "max_timestamp", -1)
    return stamp if isinstance(stamp, int) else -1


def install(topics: frozenset[str]) -> None:
    """Dead-letter ``topics``' undecodable batches; idempotent. Raises on an
    unknown aiokafka version rather than patching blind."""
    global _topics
    if aiokafka.__version__ != PATCHED_AIOKAFKA_VERSION:
        raise RuntimeError(
            f"streams.speedups.undecodable targets aiokafka {PATCHED_AIOKAFKA_VERSION},"
            f" found {aiokafka.__version__}: re-check the patched method"
        )
    _topics = topics
    fetcher.MemoryRecords = _records
    fetcher.PartitionRecords._unpack_records = _unpack_records


def uninstall() -> None:
    global _topics
    _topics = frozenset()
    fetcher.MemoryRecords = MemoryRecords
    fetcher.PartitionRecords._unpack_records = _ORIGINAL_UNPACK


def is_installed() -> bool:
    return fetcher.PartitionRecords._unpack_records is _unpack_records
