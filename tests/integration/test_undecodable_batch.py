"""A record batch the worker cannot decode never crash-loops it: the batch is
dead-lettered whole (topic, partition, offsets, the error, its bytes), the
valid inputs after it on the same partition are scored, the worker does not
exit, and a restarted worker does not meet the batch again (its offsets were
committed past).

The broken batches are written with a raw produce request, as a buggy or
corrupting producer would: an lz4 batch whose payload is garbage (its CRC
made right), an uncompressed batch whose records do not parse (CRC right),
and a zstd batch with a bit flipped after its CRC was computed. Apache Kafka
checks a batch's CRC and decompresses it on produce, so it refuses all
three; Tansu stores them as sent, which is what a batch corrupted after the
broker took it (disk, replication) looks like to a consumer. (Tansu refuses
a codec Kafka does not define: the unit tests cover that one.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaClient
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.structs import TopicPartition

from schemas import topics
from services.stack.topics import ensure_topics
from tests import record_batches
from tests.integration.kafka_io import Record, produce, read_until
from tests.integration.test_ingest_deadletter import _good
from tests.integration.worker_process import running_worker

PARTITIONS = 4


def _login(account: str, n: int) -> bytes:
    return orjson.dumps({"id": f"{account}-x{n}", "account_id": account, "type": "login",
                         "time": "2026-11-03T10:00:00Z", "user_id": "u1"})  # fmt: skip


async def _produce_raw(bootstrap: str, topic: str, partition: int, batch: bytes) -> int:
    """Send one record batch as it is; the base offset the broker gave it."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        await client.force_metadata_update()
        leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
        request = ProduceRequest(None, -1, 30_000, [(topic, [(partition, batch)])])
        response = await client.send(leader, request)
    finally:
        await client.close()
    _, partitions = response.topics[0]
    error_code, base_offset = partitions[0][1], partitions[0][2]
    assert error_code == 0, f"the broker refused the batch: error {error_code}"
    return int(base_offset)


def _on_partition(unique_name: Callable[[str], str], prefix: str, partition: int) -> str:
    """A fresh account name whose key the default partitioner puts on ``partition``."""
    every = list(range(PARTITIONS))
    while True:
        name = unique_name(prefix)
        if DefaultPartitioner()(name.encode(), every, every) == partition:
            return name


def _letters(kept: list[Record], partition: int, firsts: set[int]) -> list[dict[str, object]]:
    letters = [orjson.loads(r.value) for r in kept]
    return [
        x for x in letters
        if x["topic"] == topics.USAGE and x["partition"] == partition and x["offset"] in firsts
    ]  # fmt: skip


@pytest.mark.timeout(300)
async def test_an_undecodable_batch_is_dead_lettered_and_skipped_once(
    tansu_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    bootstrap, partition = tansu_bootstrap, 1
    await ensure_topics(bootstrap, PARTITIONS)
    before, after, later = (_on_partition(unique_name, p, partition) for p in ("bef", "aft", "lat"))
    await produce(bootstrap, _good(before))
    hidden = unique_name("hidden")  # inside the broken batches: never scored
    logins = [(hidden.encode(), _login(hidden, n)) for n in range(3)]
    broken = {
        "garbage lz4 payload": record_batches.garbage_payload(record_batches.build(logins, "lz4")),
        "garbage records": record_batches.garbage_payload(record_batches.build(logins)),
        "CRC mismatch": record_batches.flip_payload_byte(record_batches.build(logins, "zstd")),
    }
    sent = {}
    for name, batch in broken.items():
        sent[await _produce_raw(bootstrap, topics.USAGE, partition, bytes(batch))] = (name, batch)
    await produce(bootstrap, _good(after))

    exits: list[int] = []
    app_id, data = unique_name("worker"), tmp_path / "w"
    with running_worker(bootstrap, app_id, data, exits=exits) as log:
        health = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: {r.key for r in kept} >= {after.encode()},
            keep=lambda r: r.key in (before.encode(), after.encode(), hidden.encode()), timeout=90,
        )  # fmt: skip
        dead = await read_until(
            bootstrap, topics.DEADLETTER, timeout=30,
            done=lambda kept: len(_letters(kept, partition, set(sent))) >= 3,
        )  # fmt: skip
        worker_log = log.read_text(errors="replace")
    assert exits == [0], worker_log[-3000:]
    assert {r.key for r in health} == {before.encode(), after.encode()}, worker_log[-3000:]
    letters = _letters(dead, partition, set(sent))
    assert len(letters) == 3, worker_log[-3000:]
    for letter in letters:
        name, batch = sent[int(letter["offset"])]  # type: ignore[call-overload]
        assert letter["last_offset"] == letter["offset"] + 2, name
        assert base64.b64decode(str(letter["value_b64"]))[16:] == bytes(batch)[16:], name
        assert str(letter["reason"]).startswith("record batch at offsets"), name

    # A restart: the broken batches were committed past, so they are not met again.
    await produce(bootstrap, _good(later))
    with running_worker(bootstrap, app_id, data, exits=exits) as log:
        again = await read_until(
            bootstrap, topics.HEALTH, done=lambda kept: len(kept) >= 1,
            keep=lambda r: r.key == later.encode(), timeout=90,
        )  # fmt: skip
        worker_log = log.read_text(errors="replace")
    dead = await read_until(bootstrap, topics.DEADLETTER, done=lambda kept: False, timeout=5)
    assert again, worker_log[-3000:]
    assert exits == [0, 0], worker_log[-3000:]
    assert len(_letters(dead, partition, set(sent))) == 3, "dead-lettered again after a restart"
