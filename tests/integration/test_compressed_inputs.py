"""Inputs compressed with each codec Kafka producers use (gzip, snappy, lz4,
zstd: librdkafka and Java clients are often set to lz4 or zstd) are consumed
and scored, not a crash of the consumer loop (aiokafka needs cramjam for
all but gzip: the ``aiokafka[snappy,lz4,zstd]`` extras)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas import topics
from services.stack.topics import ensure_topics
from tests.integration.kafka_io import read_until
from tests.integration.test_ingest_deadletter import _good
from tests.integration.worker_process import running_worker

CODECS = ("gzip", "snappy", "lz4", "zstd")


async def _produce(bootstrap: str, codec: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=codec)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.mark.timeout(240)
async def test_inputs_compressed_with_every_codec_are_scored(
    apache_kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap = apache_kafka_bootstrap
    await ensure_topics(bootstrap, 4)
    accounts = {codec: unique_name(f"acct-{codec}") for codec in CODECS}
    for codec, account in accounts.items():
        await _produce(bootstrap, codec, _good(account))
    keys = {account.encode(): codec for codec, account in accounts.items()}

    with running_worker(bootstrap, unique_name("worker"), tmp_path / "w") as log:
        health = await read_until(
            bootstrap,
            topics.HEALTH,
            done=lambda kept: {r.key for r in kept} == set(keys),
            keep=lambda r: r.key in keys,
            timeout=90,
        )
        worker_log = log.read_text(errors="replace")

    scored = {keys[r.key] for r in health if r.key is not None}
    assert scored == set(CODECS), worker_log[-3000:]
    for record in health:
        assert 0 <= orjson.loads(record.value)["data"]["score"] <= 100
