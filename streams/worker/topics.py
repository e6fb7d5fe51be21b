"""Faust's handle on the input topics (one subscription, co-partitioned).
Payloads stay raw bytes: decoding and validation are ours (one compiled
pydantic validator per topic), so a bad message reaches the dead-letter path
instead of crashing Faust's codec. Outputs are produced by
``streams.processing.pipeline`` through Faust's producer, by topic name."""

from __future__ import annotations

from schemas import topics
from streams.worker.app import app

inputs = app.topic(
    *topics.INPUT_TOPICS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    allow_empty=True,
)
