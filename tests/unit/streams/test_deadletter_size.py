"""A dead letter stays under the broker's 1 MiB message limit whatever the
input's size: past ``MAX_VALUE_BYTES`` it carries the first bytes, the whole
size and the whole value's SHA-256 (a dead letter over the limit failed to
send, and failed again after every restart)."""

from __future__ import annotations

import base64
import hashlib

import orjson

from schemas.errors import InvalidEventError
from streams.processing.deadletter import MAX_VALUE_BYTES, dead_letter_value

BROKER_LIMIT = 1024 * 1024


def letter(value: bytes) -> dict[str, object]:
    raw = dead_letter_value(
        topic="cs.usage.v1",
        partition=0,
        offset=7,
        key=b"k" * 100_000,
        value=value,
        error=InvalidEventError("too large " + "x" * 100_000, kind="too_large"),
    )
    assert len(raw) < BROKER_LIMIT - 64 * 1024  # room for the record's headers
    out: dict[str, object] = orjson.loads(raw)
    return out


def test_a_value_near_the_broker_limit_is_truncated_with_its_size_and_digest() -> None:
    value = bytes(range(256)) * (1_000_000 // 256)
    out = letter(value)
    assert out["truncated"] is True
    assert out["size_bytes"] == len(value)
    assert out["sha256"] == hashlib.sha256(value).hexdigest()
    assert base64.b64decode(str(out["value_b64"])) == value[:MAX_VALUE_BYTES]


def test_a_small_value_is_kept_whole() -> None:
    out = dead_letter_value(
        topic="cs.usage.v1",
        partition=0,
        offset=7,
        key=b"acme",
        value=b"not json",
        error=InvalidEventError("not valid JSON", kind="not_json"),
    )
    data = orjson.loads(out)
    assert data["truncated"] is False and data["sha256"] is None
    assert base64.b64decode(data["value_b64"]) == b"not json"
