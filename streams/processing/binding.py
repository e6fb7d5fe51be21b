"""The CloudEvents Kafka protocol binding of the output records: structured
content mode, with the event's attributes also as ``ce_`` headers.

Structured mode keeps the value the whole event in the JSON event format,
exactly the bytes the contract promises (the readmodel, the notifier, the
replay and every consumer read the value). The ``content-type`` header is what
tells a binding-aware receiver (the CloudEvents SDKs, Knative, Kafka Connect
converters) that the value is the event: without it such a receiver falls back
to binary mode and finds no event (kafka-protocol-binding 3, 3.3.1).

The spec lets a structured record carry the binary mode's ``ce_`` headers too
(3.3.3); with them a consumer can route on ``ce_type`` or de-duplicate on
``ce_id`` without parsing the value. All attributes get one, as in binary mode,
so a header reader sees the whole set - except ``datacontenttype``: binary mode
maps it to ``content-type``, which here names the event format; the value
carries it.

Every header is a function of the event's own attributes (ids and times are
deterministic from the cause), so a replay writes the same headers as the live
run. The parts every record shares are built once; per record: the id, the
type (cached per type, a few dozen), the subject (the record's key) and the
time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TypeAlias

import orjson

from schemas.cloudevents import KAFKA_CONTENT_TYPE as CONTENT_TYPE
from schemas.cloudevents import SOURCE

#: Kafka record headers: (name, value) pairs in order; a list, as aiokafka's
#: compiled batch builder takes no other sequence.
Headers: TypeAlias = list[tuple[str, bytes]]

#: orjson options of the event format: UTC times end in ``Z``, as pydantic
#: writes them in the contract models (``schemas.cloudevents``).
JSON_OPTIONS = orjson.OPT_UTC_Z

#: The headers every output record carries, built once.
SHARED: tuple[tuple[str, bytes], ...] = (
    ("content-type", CONTENT_TYPE.encode()),
    ("ce_specversion", b"1.0"),
    ("ce_source", SOURCE.encode()),
)


@lru_cache(maxsize=256)
def _type_header(kind: str) -> tuple[str, bytes]:
    return ("ce_type", kind.encode())


def kafka_headers(event_id: str, kind: str, subject: bytes, time: datetime) -> Headers:
    """The headers of one output record: ``SHARED``, then ``ce_id``, ``ce_type``,
    ``ce_subject`` (``subject``: the account id, already encoded as the key) and
    ``ce_time``, each the UTF-8 text of the attribute as the value writes it
    (in ``schemas.cloudevents.KAFKA_HEADER_ATTRIBUTES`` order)."""
    return [
        *SHARED,
        ("ce_id", event_id.encode()),
        _type_header(kind),
        ("ce_subject", subject),
        ("ce_time", orjson.dumps(time, option=JSON_OPTIONS)[1:-1]),
    ]
