"""Every Kafka client the product builds takes the shared security settings.

A client built without them connects in plaintext and fails only against a
secured cluster, in production. So every ``AIOKafkaProducer``,
``AIOKafkaConsumer`` and ``AIOKafkaAdminClient`` call in ``streams/`` and
``services/`` passes ``**client_kwargs(...)``, and every Faust app passes
``broker_credentials``. Left out: the benchmark (a developer tool run on the
embedded brokers) and the embedded broker's readiness probe.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}
APPS = {"App"}  # faust.App and streams.worker.app.App
EXEMPT = {"services/bench", "services/stack/probe.py"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _calls() -> list[tuple[str, ast.Call]]:
    found = []
    for folder in ("streams", "services"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if any(rel == e or rel.startswith(e + "/") for e in EXEMPT):
                continue
            for node in ast.walk(ast.parse(path.read_text(), rel)):
                if isinstance(node, ast.Call) and _name(node) in CLIENTS | APPS:
                    found.append((f"{rel}:{node.lineno}", node))
    return found


def _passes_security(call: ast.Call) -> bool:
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg is None and isinstance(value, ast.Call) and _name(value) == "client_kwargs":
            return True
        if keyword.arg == "broker_credentials" and _name(call) in APPS:
            return True
    return False


def test_every_kafka_client_takes_the_security_settings() -> None:
    calls = _calls()
    names = {_name(call) for _, call in calls}

    assert names >= CLIENTS, "the scan found none of some client: is it still looking?"
    assert [where for where, call in calls if not _passes_security(call)] == []
