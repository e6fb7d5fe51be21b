"""The committed JSON Schemas and AsyncAPI document are the contract other
teams vendor: they must match the models exactly. Regenerate with
``python -m schemas.export``."""

from __future__ import annotations

import json

import yaml

from schemas import topics
from schemas.export import GENERATED, render


def test_generated_files_match_the_models() -> None:
    stale = [
        name
        for name, content in render().items()
        if not (GENERATED / name).exists() or (GENERATED / name).read_text() != content
    ]
    assert not stale, f"out of date: {stale}; run python -m schemas.export"


def test_asyncapi_has_a_channel_per_topic() -> None:
    doc = yaml.safe_load((GENERATED / "asyncapi.yaml").read_text())
    assert doc["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == set(topics.ALL_TOPICS)


def test_input_schema_rejects_unknown_fields() -> None:
    schema = json.loads((GENERATED / f"{topics.USAGE}.schema.json").read_text())
    login = schema["$defs"]["Login"]
    assert login["additionalProperties"] is False
    assert {"id", "account_id", "time", "type"} <= set(login["required"])


def test_asyncapi_declares_the_cloudevents_binding_of_the_outputs() -> None:
    """Output events are structured-mode CloudEvents with ``ce_`` headers
    (docs/events.md); inputs and dead letters are plain JSON."""
    messages = yaml.safe_load((GENERATED / "asyncapi.yaml").read_text())["components"]["messages"]
    for topic in topics.ALL_TOPICS:
        message = messages[topic.replace(".", "_")]
        if topic in topics.OUTPUT_TOPICS and topic != topics.DEADLETTER:
            assert message["contentType"] == "application/cloudevents+json; charset=UTF-8"
            assert {"content-type", "ce_id", "ce_type"} <= set(message["headers"]["required"])
        else:
            assert message["contentType"] == "application/json" and "headers" not in message
