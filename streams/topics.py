"""Faust handles on the contract topics. Payloads stay raw bytes: decoding and
validation are ours (one compiled pydantic validator per topic), so a bad
message reaches the dead-letter path instead of crashing Faust's codec."""

from __future__ import annotations

import faust

from schemas import topics
from streams.app import app

inputs = app.topic(
    *topics.INPUT_TOPICS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    allow_empty=True,
)


def _output(name: str) -> faust.TopicT:
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


health = _output(topics.HEALTH)
alerts = _output(topics.ALERTS)
dunning = _output(topics.DUNNING)
deadletter = _output(topics.DEADLETTER)
