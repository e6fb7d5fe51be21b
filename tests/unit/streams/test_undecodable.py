"""A record batch the consumer cannot decode (``streams.speedups.undecodable``):
aiokafka's own fetch-response decoding (``PartitionRecords``) over real
batches broken each way, with the patch installed, and the dead letter the
pipeline's decoding makes of the record handed over in its place. No broker:
``tests/integration/test_undecodable_batch.py`` runs the worker on one."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import aiokafka
import orjson
import pytest
from aiokafka.consumer import fetcher
from aiokafka.structs import TopicPartition

from streams.observability import metrics
from streams.processing.deadletter import MAX_VALUE_BYTES
from streams.processing.ingest import decode_batch
from streams.speedups import undecodable
from tests import record_batches as rb

TOPIC = "cs.usage.v1"
LOGINS = [(b"a1", b'{"n": %d}' % n) for n in range(4)]

BROKEN: dict[str, Callable[[], bytearray]] = {
    "crc mismatch": lambda: rb.flip_payload_byte(rb.build(LOGINS, "lz4")),
    "garbage gzip": lambda: rb.garbage_payload(rb.build(LOGINS, "gzip")),
    "garbage snappy": lambda: rb.garbage_payload(rb.build(LOGINS, "snappy")),
    "garbage lz4": lambda: rb.garbage_payload(rb.build(LOGINS, "lz4")),
    "garbage zstd": lambda: rb.garbage_payload(rb.build(LOGINS, "zstd")),
    "records that do not parse": lambda: rb.garbage_payload(rb.build(LOGINS)),
    "unknown codec": lambda: rb.unknown_codec(rb.build(LOGINS, "gzip")),
    "a record cut short": lambda: rb.reseal(rb.build(LOGINS)[:-2]),
}


@pytest.fixture
def installed() -> Iterator[None]:
    undecodable.install(frozenset({TOPIC}))
    try:
        yield
    finally:
        undecodable.uninstall()


def _at(base: int, batch: bytearray) -> bytes:
    batch[0:8] = base.to_bytes(8, "big")  # as the broker assigns it
    return bytes(batch)


def _around(bad: bytearray) -> bytes:
    """One good record at 0, the broken batch at 1-4, one good record at 5."""
    return _at(0, rb.build(LOGINS[:1])) + _at(1, bad) + _at(5, rb.build(LOGINS[:1]))


def _unpack(data: bytes, topic: str = TOPIC, fetch_offset: int = 0) -> list[Any]:
    """What aiokafka's fetcher hands over of one fetched partition's bytes."""
    records = fetcher.MemoryRecords(data)  # what the fetcher builds them with
    tp = TopicPartition(topic, 0)
    partition = fetcher.PartitionRecords(
        tp, records, None, fetch_offset, None, None, True, fetcher.READ_UNCOMMITTED
    )
    return list(partition)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_aiokafka_alone_raises_on_each_broken_batch(kind: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - each kind raises its own
        _unpack(_around(BROKEN[kind]()))


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_batch_is_handed_over_as_one_stand_in_between_the_good_records(
    kind: str, installed: None
) -> None:
    bad = BROKEN[kind]()
    before = metrics.UNDECODABLE_BATCHES.labels(TOPIC)._value.get()
    out = _unpack(_around(bad))
    assert [r.offset for r in out] == [0, 4, 5]
    assert [r.value for r in out] == [LOGINS[0][1], b"", LOGINS[0][1]]
    stand_in = out[1].undecodable
    assert stand_in.first_offset == 1
    assert stand_in.raw[8:] == bytes(bad)[8:]  # the whole batch, as fetched
    assert stand_in.error
    assert metrics.UNDECODABLE_BATCHES.labels(TOPIC)._value.get() == before + 1


def test_no_record_of_a_batch_broken_midway_is_handed_over(installed: None) -> None:
    """aiokafka decodes an uncompressed batch a record at a time: alone it
    hands over the records before the bad one, then raises."""
    undecodable.uninstall()
    alone = fetcher.PartitionRecords(
        TopicPartition(TOPIC, 0), fetcher.MemoryRecords(_at(0, BROKEN["a record cut short"]())),
        None, 0, None, None, True, fetcher.READ_UNCOMMITTED,
    )  # fmt: skip
    assert next(alone).offset == 0
    with pytest.raises(aiokafka.errors.CorruptRecordException):
        list(alone)
    undecodable.install(frozenset({TOPIC}))
    out = _unpack(_at(0, BROKEN["a record cut short"]()))
    assert [(r.offset, r.undecodable.first_offset) for r in out] == [(3, 0)]


def test_other_topics_keep_aiokafkas_error(installed: None) -> None:
    """A changelog's broken batch is state: it is not skipped silently."""
    with pytest.raises(aiokafka.errors.CorruptRecordException):
        _unpack(_around(BROKEN["crc mismatch"]()), topic="healthscore-accounts-changelog")


def test_the_stand_in_starts_at_the_fetch_position_and_a_batch_before_it_is_skipped(
    installed: None,
) -> None:
    """A fetch from inside a batch gets the whole batch from the broker."""
    data = _at(1, BROKEN["garbage lz4"]()) + _at(5, rb.build(LOGINS[:1]))
    inside = _unpack(data, fetch_offset=3)
    assert [(r.offset, getattr(r, "undecodable", None) is not None) for r in inside] == [
        (4, True),
        (5, False),
    ]
    assert inside[0].undecodable.first_offset == 3
    past = _unpack(data, fetch_offset=5)
    assert [r.offset for r in past] == [5]


def test_the_stand_in_becomes_one_dead_letter_with_the_offsets_error_and_bytes(
    installed: None,
) -> None:
    bad = BROKEN["garbage zstd"]()
    out = _unpack(_around(bad))
    batch = decode_batch(out, timestamp_scale=0.001)
    rejects = [r for r in batch.rejected if r.kind == "undecodable_batch"]
    assert len(rejects) == 1
    letter = orjson.loads(rejects[0].value)
    assert (letter["topic"], letter["partition"], letter["offset"], letter["last_offset"]) == (
        TOPIC,
        0,
        1,
        4,
    )
    assert letter["reason"].startswith("record batch at offsets 1-4 could not be decoded: ")
    assert "DecompressionError" in letter["reason"]
    assert base64.b64decode(letter["value_b64"])[8:] == bytes(bad)[8:]
    assert letter["size_bytes"] == len(bad)
    assert batch.read == {(TOPIC, 0): (0, 6)}  # read through: its offsets are acked


def test_a_large_broken_batch_is_dead_lettered_truncated_with_its_digest(
    installed: None,
) -> None:
    big = [(b"k", bytes(range(256)) * 1024) for _ in range(2)]  # 512 KiB of values
    bad = rb.flip_payload_byte(rb.build(big))
    out = _unpack(_at(0, bad))
    letter = orjson.loads(decode_batch(out).rejected[0].value)
    raw = out[0].undecodable.raw
    assert letter["truncated"] is True
    assert letter["size_bytes"] == len(raw) > MAX_VALUE_BYTES
    assert letter["sha256"] == hashlib.sha256(raw).hexdigest()
    assert len(base64.b64decode(letter["value_b64"])) == MAX_VALUE_BYTES


def test_install_refuses_another_aiokafka_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiokafka, "__version__", "0.99.0")
    with pytest.raises(RuntimeError, match=r"aiokafka 0\.14\.0"):
        undecodable.install(frozenset({TOPIC}))
    assert not undecodable.is_installed()


def test_a_corrupted_offset_count_skips_no_good_batch_after_it(installed: None) -> None:
    """The header's last offset delta is covered by the CRC: corrupted, it
    must not move the position past the good batches that follow."""
    bad = rb.build(LOGINS)
    bad[23:27] = (1000).to_bytes(4, "big")  # "1001 records", CRC now wrong
    out = _unpack(_around(bad))
    assert [r.offset for r in out] == [0, 4, 5]
    assert out[1].undecodable.first_offset == 1
    assert "CRC mismatch" in out[1].undecodable.error
