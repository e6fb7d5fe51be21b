"""docs/examples/read_deadletters.py, which the HealthscoreDeadLetters runbook
tells operators to run, against Apache Kafka holding dead letters written by
the worker's own encoder (``dead_letter_value``): it prints the newest ones,
newest first, with their origin, reason and original bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer

from schemas.errors import InvalidEventError
from services.stack.probe import run_sync
from services.stack.topics import ensure_topics
from streams.processing.deadletter import dead_letter_value

ROOT = Path(__file__).resolve().parents[2]
READER = ROOT / "docs" / "examples" / "read_deadletters.py"
TOPIC = "cs.deadletter.v1"
T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
REJECTS = [  # (source topic, partition, offset, value, reason), oldest first
    ("cs.usage.v1", 0, 11, b"{not json", "not valid JSON"),
    ("cs.billing.v1", 1, 7, b'{"currency":"usd"}', "currency: bad"),
    ("cs.tickets.v1", 2, 3, b'{"type":"ticket_closed"}', "unknown type 'ticket_closed'"),
]


async def _write(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i, (topic, partition, offset, value, reason) in enumerate(REJECTS):
            letter = dead_letter_value(
                topic=topic,
                partition=partition,
                offset=offset,
                key=b"acme",
                value=value,
                error=InvalidEventError(reason, kind="invalid_value"),
                now=T0 + timedelta(minutes=i),
            )
            # Spread over both partitions: the reader merges them by rejection time.
            await producer.send_and_wait(TOPIC, letter, key=b"acme", partition=i % 2)
    finally:
        await producer.stop()


def test_prints_the_newest_dead_letters_first(fresh_apache_kafka_bootstrap: str) -> None:
    bootstrap = fresh_apache_kafka_bootstrap
    run_sync(ensure_topics(bootstrap, 2, [TOPIC]))
    run_sync(_write(bootstrap))

    result = subprocess.run(
        [sys.executable, str(READER), "--last", "2"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-12-05T10:02:00Z cs.tickets.v1[2]@3: unknown type 'ticket_closed'",
        '    {"type":"ticket_closed"}',
        "2026-12-05T10:01:00Z cs.billing.v1[1]@7: currency: bad",
        '    {"currency":"usd"}',
    ]
