"""The worker's output records, read back from a real broker, follow the
CloudEvents Kafka protocol binding: structured content mode
(``content-type: application/cloudevents+json; charset=UTF-8``) with each
attribute of the event in the value also as a ``ce_`` header; dead letters,
not CloudEvents, carry no such headers.

Runs the real worker as a subprocess with its own consumer group on the
shared Tansu (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import Record, at_least, produce, read_until
from tests.integration.test_ingest_deadletter import _good
from tests.integration.worker_process import running_worker

CONTENT_TYPE = b"application/cloudevents+json; charset=UTF-8"
ATTRIBUTES = ("specversion", "source", "id", "type", "subject", "time")


def payment_failed(account: str) -> tuple[str, bytes, bytes]:
    event = {"id": f"{account}-pf", "account_id": account, "type": "payment_failed",
             "time": "2026-11-05T10:00:00Z", "invoice_id": "in_1", "amount_cents": 4900,
             "currency": "USD", "decline_code": "insufficient_funds"}  # fmt: skip
    return topics.BILLING, account.encode(), orjson.dumps(event)


def both_topics(kept: list[Record]) -> bool:
    return {r.topic for r in kept} >= {topics.HEALTH, topics.DUNNING}


@pytest.mark.timeout(240)
async def test_output_records_carry_the_cloudevents_kafka_binding_headers(
    tansu_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    account = unique_name("binding")
    key = account.encode()
    await ensure_topics(tansu_bootstrap, 4)
    bad = (topics.USAGE, key, b"not json")
    await produce(tansu_bootstrap, [*_good(account), payment_failed(account), bad])

    with running_worker(tansu_bootstrap, unique_name("worker"), tmp_path / "w") as log:
        outputs = await read_until(
            tansu_bootstrap, [topics.HEALTH, topics.DUNNING], done=both_topics,
            keep=lambda r: r.key == key, timeout=90,
        )  # fmt: skip
        dead = await read_until(
            tansu_bootstrap, topics.DEADLETTER, done=at_least(1),
            keep=lambda r: r.key == key, timeout=30,
        )  # fmt: skip
        worker_log = log.read_text(errors="replace")

    assert both_topics(outputs), worker_log[-3000:]
    for record in outputs:
        event = orjson.loads(record.value)
        expected = [("content-type", CONTENT_TYPE)]
        expected += [(f"ce_{name}", str(event[name]).encode()) for name in ATTRIBUTES]
        assert list(record.headers) == expected, (record.topic, record.headers)
        assert event["datacontenttype"] == "application/json"
    assert dead, worker_log[-3000:]
    assert not any(name == "content-type" or name.startswith("ce_") for name, _ in dead[0].headers)
