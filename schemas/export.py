"""Export the contract for producers in other languages.

Writes one JSON Schema per topic and an AsyncAPI 3 document under
``schemas/generated/``. The files are committed so a producer team can vendor
them; ``tests/unit/schemas/test_export.py`` fails when they drift from the
models. Regenerate with ``python -m schemas.export``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from schemas import topics
from schemas.alerts import AlertEvent
from schemas.cloudevents import KAFKA_CONTENT_TYPE, KAFKA_HEADER_ATTRIBUTES
from schemas.deadletter import DeadLetter
from schemas.dunning import DunningEvent
from schemas.health import HealthEvent
from schemas.inputs import INPUT_ADAPTERS
from schemas.lifecycle import LifecycleEvent
from schemas.subscriptions import SubscriptionRecord
from schemas.touchpoints import TouchpointEvent

GENERATED = Path(__file__).parent / "generated"

_DESCRIPTIONS = {
    topics.USAGE: "Product usage: logins, feature use, data growth, seats.",
    topics.TICKETS: "Support tickets: opened, updated, solved (with CSAT), reopened.",
    topics.BILLING: "Payments, card expiry, renewals, cancellations.",
    topics.FEEDBACK: "NPS and CSAT survey responses.",
    topics.ACCOUNTS: "Account profiles (compacted): segment, ARR, owner, renewal.",
    topics.HEALTH: "Every score change with its explanation (compacted).",
    topics.ALERTS: "Risk alerts: below threshold, recovered, sudden drop, inactivity.",
    topics.DUNNING: "Dunning steps and renewal / card-expiry reminders.",
    topics.DEADLETTER: "Rejected inputs with the original bytes and the reason.",
    topics.TOUCHPOINTS: (
        "Lifecycle touchpoints for the account owner: check-ins, milestones, renewal,"
        " expansion, referral."
    ),
    topics.LIFECYCLE: (
        "Account lifecycle: churned (reason, voluntary or involuntary, ARR lost) and reactivated."
    ),
    topics.SUBSCRIPTIONS: (
        "Delivery subscriptions (compacted, tombstone on delete); webhook secrets sealed."
    ),
}
#: The key of every topic's records, where it is not the account.
_KEYS = {topics.SUBSCRIPTIONS: "subscription id"}


#: Output topics whose records are CloudEvents, with the Kafka binding's headers.
CLOUDEVENT_TOPICS = frozenset(topics.OUTPUT_TOPICS) - {topics.DEADLETTER}


def _binding_headers() -> dict[str, Any]:
    """The headers of a CloudEvent output record (docs/events.md); a new dict
    per message, so the YAML has no anchors for tools that do not follow them."""
    return {
        "type": "object",
        "description": "CloudEvents Kafka protocol binding, structured content mode; each ce_ "
        "header is the attribute of the same name in the value, as UTF-8 text.",
        "properties": {
            "content-type": {"type": "string", "const": KAFKA_CONTENT_TYPE},
            **{f"ce_{name}": {"type": "string"} for name in KAFKA_HEADER_ATTRIBUTES},
        },
        "required": ["content-type", *(f"ce_{name}" for name in KAFKA_HEADER_ATTRIBUTES)],
    }


def topic_schemas() -> dict[str, dict[str, Any]]:
    adapters: dict[str, TypeAdapter[Any]] = dict(INPUT_ADAPTERS)
    adapters[topics.HEALTH] = TypeAdapter(HealthEvent)
    adapters[topics.ALERTS] = TypeAdapter(AlertEvent)
    adapters[topics.DUNNING] = TypeAdapter(DunningEvent)
    adapters[topics.DEADLETTER] = TypeAdapter(DeadLetter)
    adapters[topics.TOUCHPOINTS] = TypeAdapter(TouchpointEvent)
    adapters[topics.LIFECYCLE] = TypeAdapter(LifecycleEvent)
    adapters[topics.SUBSCRIPTIONS] = TypeAdapter(SubscriptionRecord)
    out: dict[str, dict[str, Any]] = {}
    for topic in topics.ALL_TOPICS:
        schema = adapters[topic].json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = topic
        schema["description"] = _DESCRIPTIONS[topic]
        out[topic] = schema
    return out


def asyncapi_document(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """AsyncAPI 3.0: one channel and one message per topic, key = account_id
    (the subscription id on the subscriptions topic)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    # Payloads are referenced, not inlined: one source per schema.
    for topic in schemas:
        name = topic.replace(".", "_")
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "summary": _DESCRIPTIONS[topic],
            "payload": {"$ref": f"./{topic}.schema.json"},
            "bindings": {
                "kafka": {"key": {"type": "string", "description": _KEYS.get(topic, "account_id")}}
            },
        }
        if topic in CLOUDEVENT_TOPICS:
            messages[name]["contentType"] = KAFKA_CONTENT_TYPE
            messages[name]["headers"] = _binding_headers()
        channels[name] = {
            "address": topic,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "topicConfiguration": {
                        "cleanup.policy": (
                            ["compact"] if topic in topics.COMPACTED_TOPICS else ["delete"]
                        )
                    },
                }
            },
        }
        action = "send" if topic in topics.INPUT_TOPICS else "receive"
        operations[f"{action}_{name}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": (
                "Producers publish here." if action == "send" else "healthscore publishes here."
            ),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "healthscore event contract",
            "version": "1.0.0",
            "description": "Topics are keyed by account_id and share one partition count.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> dict[str, str]:
    """File name -> exact file content, deterministic for a given model set."""
    schemas = topic_schemas()
    files = {
        f"{topic}.schema.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for topic, schema in schemas.items()
    }
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi_document(schemas), sort_keys=True)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, content in render().items():
        path = GENERATED / name
        if path.exists() and path.read_text() == content:
            continue
        stale.append(name)
        if not args.check:
            GENERATED.mkdir(exist_ok=True)
            path.write_text(content)
    if args.check and stale:
        sys.stderr.write(f"out of date: {', '.join(stale)}; run python -m schemas.export\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
