"""Helpers for the regression tests of known Faust failure modes
(``tests/integration/test_faust_*.py``): the group's committed offsets and
topic settings through the admin API, the worker's metrics, and inputs of
one account that surely score."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import GroupCoordinatorNotAvailableError
from prometheus_client.parser import text_string_to_metric_families

from schemas import topics
from services.stack.topics import ensure_topics
from streams.processing.partitioning import partition_for


async def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The group's committed offsets (next offset to read), by (topic, partition);
    empty while the group has no coordinator yet (nothing committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except GroupCoordinatorNotAvailableError:
        return {}
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


async def end_offsets(
    bootstrap: str, names: list[str], partitions: int
) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(name, p) for name in names for p in range(partitions)]
        return {
            (tp.topic, tp.partition): int(o) for tp, o in (await consumer.end_offsets(tps)).items()
        }
    finally:
        await consumer.stop()


async def wait_committed(
    bootstrap: str, group: str, names: list[str], partitions: int, timeout: float
) -> bool:
    """Whether the group committed every partition of ``names`` up to its end
    within ``timeout`` seconds (an empty partition counts as done)."""
    ends = await end_offsets(bootstrap, names, partitions)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = await committed(bootstrap, group)
        if all(done.get(tp, 0) >= end for tp, end in ends.items()):
            return True
        await asyncio.sleep(0.5)
    return False


async def rewind(bootstrap: str, group: str, names: list[str], partitions: int) -> None:
    """Commit offset 0 for every partition of ``names`` (the group has no
    member): its next worker reads them all again."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(name, p) for name in names for p in range(partitions)]
        consumer.assign(tps)
        await consumer.commit(dict.fromkeys(tps, 0))
    finally:
        await consumer.stop()


async def latest_values(bootstrap: str, topic: str, partitions: int) -> dict[bytes, bytes]:
    """The last value of every key of ``topic``, read to its current end."""
    ends = await end_offsets(bootstrap, [topic], partitions)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: dict[bytes, bytes] = {}
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[(topic, tp.partition)]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key is not None and record.value is not None:
                        out[record.key] = record.value
    finally:
        await consumer.stop()
    return out


async def set_topic_config(bootstrap: str, topic: str, configs: Mapping[str, str]) -> None:
    """Set ``topic``'s overrides to ``configs`` (all of them: the legacy
    AlterConfigs replaces the set, so ``{}`` returns it to broker defaults)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs=dict(configs))
        (response,) = await admin.alter_configs([resource])
        errors = [r for r in response.resources if r[0]]
        assert not errors, errors
    finally:
        await admin.close()


async def delete_topic(bootstrap: str, topic: str) -> None:
    """Delete ``topic``: a producer that knew its partitions waits, retrying
    until its delivery timeout (Faust's: 20 minutes), for a send to it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def recreate_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """``topic`` with ``partitions`` again, whether a metadata request has
    auto-created it meanwhile (with one partition) or not."""
    if await ensure_topics(bootstrap, partitions, [topic]):
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_partitions({topic: NewPartitions(total_count=partitions)})
    finally:
        await admin.close()


async def samples(port: int, name: str) -> list[tuple[dict[str, str], float]]:
    """A metric's samples (labels, value) from the worker's /metrics; empty
    while it is not serving yet."""
    try:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.TransportError:
        return []
    return [
        (s.labels, s.value)
        for family in text_string_to_metric_families(text)
        if family.name == name
        for s in family.samples
    ]


async def gauge(port: int, name: str) -> dict[tuple[str, str], float]:
    """A gauge's samples by (topic, partition)."""
    return {(labels["topic"], labels["partition"]): v for labels, v in await samples(port, name)}


def on_partition(prefix: str, partition: int, partitions: int) -> str:
    """An account id starting with ``prefix`` whose inputs land on ``partition``."""
    n = 0
    while partition_for(f"{prefix}-{n}".encode(), partitions) != partition:
        n += 1
    return f"{prefix}-{n}"


def logins(account: str, days: range) -> list[tuple[str, bytes, bytes]]:
    """A profile (first) and one login a day: each login moves the score."""
    key = account.encode()
    profile = {"id": f"{account}-p", "account_id": account, "type": "account_upserted",
               "time": "2026-11-01T00:00:00Z", "name": "Acme", "segment": "smb",
               "owner": "csm@example.com"}  # fmt: skip
    out = [(topics.ACCOUNTS, key, orjson.dumps(profile))]
    for day in days:
        login = {"id": f"{account}-l{day}", "account_id": account, "type": "login",
                 "time": f"2026-11-{day:02d}T09:00:00Z", "user_id": "u1"}  # fmt: skip
        out.append((topics.USAGE, key, orjson.dumps(login)))
    return out


def not_json(account: str, size: int) -> tuple[str, bytes, bytes]:
    """An input the worker dead-letters (``not_json``), ``size`` bytes long."""
    return topics.USAGE, account.encode(), b"x" * size
