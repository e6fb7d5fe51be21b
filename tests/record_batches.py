"""Kafka record batches (format v2) built and broken on purpose, for the
tests of what the worker does with a batch it cannot decode
(``streams.speedups.undecodable``).

Layout (KIP-98): base offset (8 bytes), length (4), leader epoch (4), magic
(1), CRC-32C (4) of everything after it, attributes (2; the low 3 bits are
the codec), ..., record count (4) at 57, then the records, compressed as a
whole when a codec is set."""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
_CRC, _ATTRIBUTES, _RECORDS = 17, 21, 61


def build(
    records: list[tuple[bytes | None, bytes]], codec: str = "none", timestamp_ms: int = 0
) -> bytearray:
    """A valid batch of (key, value) records at offsets 0.. (the broker
    assigns the real ones)."""
    builder = DefaultRecordBatchBuilder(2, CODECS[codec], 0, -1, -1, -1, 1 << 20)
    for offset, (key, value) in enumerate(records):
        builder.append(offset, timestamp_ms, key, value, [])
    return builder.build()


def reseal(raw: bytearray) -> bytearray:
    """The batch with its length and CRC made right for its current bytes:
    a producer's bug, which CRC checks cannot catch."""
    raw[8:12] = (len(raw) - 12).to_bytes(4, "big")
    raw[_CRC:_ATTRIBUTES] = calc_crc32c(bytes(raw[_ATTRIBUTES:])).to_bytes(4, "big")
    return raw


def flip_payload_byte(raw: bytearray) -> bytearray:
    """One payload bit flipped after the CRC was computed (a corrupted disk
    or wire): the CRC no longer matches."""
    raw[-3] ^= 0x40
    return raw


def garbage_payload(raw: bytearray) -> bytearray:
    """The compressed payload replaced by bytes no codec reads, CRC right."""
    raw[_RECORDS:] = b"\xde\xad\xbe\xef" * 8
    return reseal(raw)


def unknown_codec(raw: bytearray, codec: int = 5) -> bytearray:
    """The codec bits set to one Kafka does not define, CRC right."""
    attributes = int.from_bytes(raw[_ATTRIBUTES : _ATTRIBUTES + 2], "big")
    raw[_ATTRIBUTES : _ATTRIBUTES + 2] = ((attributes & ~0x07) | codec).to_bytes(2, "big")
    return reseal(raw)
