"""The CloudEvents Kafka binding headers of one output record
(``streams.processing.binding``): structured mode's content type, every
attribute the value carries as a ``ce_`` header written as the value writes
it, and the parts records share built once, not per record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
from aiokafka.producer.message_accumulator import BatchBuilder

from streams.processing.binding import CONTENT_TYPE, SHARED, kafka_headers

AT = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)


def test_headers_name_the_event_format_and_every_attribute() -> None:
    headers = kafka_headers("h-acme-1", "io.healthscore.health.changed", b"acme", AT)
    assert headers == [
        ("content-type", b"application/cloudevents+json; charset=UTF-8"),
        ("ce_specversion", b"1.0"),
        ("ce_source", b"/healthscore/streams"),
        ("ce_id", b"h-acme-1"),
        ("ce_type", b"io.healthscore.health.changed"),
        ("ce_subject", b"acme"),
        ("ce_time", b"2026-11-02T09:15:00Z"),
    ]
    assert CONTENT_TYPE.lower().startswith("application/cloudevents")  # the receivers' test


def test_time_and_text_are_written_as_the_value_writes_them() -> None:
    """The header is the attribute's JSON string, unquoted: microseconds and
    offsets as orjson writes them in the value, non-ASCII ids as UTF-8."""
    for at in (AT + timedelta(microseconds=120), AT.astimezone(timezone(timedelta(hours=2)))):
        (time,) = [v for k, v in kafka_headers("x", "t", b"k", at) if k == "ce_time"]
        assert b'"' + time + b'"' == orjson.dumps(at, option=orjson.OPT_UTC_Z)
    (ident,) = [v for k, v in kafka_headers("héllo", "t", b"k", AT) if k == "ce_id"]
    assert ident.decode() == "héllo"


def test_the_shared_parts_are_built_once() -> None:
    """Per record only the id, subject and time are new objects: the shared
    headers and the type's are the same objects in every record's headers."""
    kind = "io.healthscore.alert.sudden_drop"
    first = kafka_headers("a-1", kind, b"acme", AT)
    second = kafka_headers("a-2", kind, b"globex", AT + timedelta(days=1))
    assert all(a is b is s for a, b, s in zip(first, second, SHARED, strict=False))
    assert first[len(SHARED) + 1] is second[len(SHARED) + 1]


def test_aiokafkas_compiled_batch_builder_takes_them() -> None:
    """It takes a list and no other sequence (a tuple raises TypeError)."""
    builder = BatchBuilder(16384, 0)
    headers = kafka_headers("h-1", "io.healthscore.health.changed", b"acme", AT)
    assert builder.append(timestamp=None, key=b"acme", value=b"{}", headers=headers) is not None
