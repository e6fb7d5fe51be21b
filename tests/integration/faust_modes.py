"""Helpers for the regression tests of known Faust failure modes
(``tests/integration/test_faust_*.py``): the group's committed offsets and
topic settings through the admin API, the worker's metrics, and inputs of
one account that surely score."""

from __future__ import annotations

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


async def end_offset(bootstrap: str, topic: str, partition: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


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


async def samples(port: int, name: str) -> dict[tuple[str, ...], float]:
    """A metric's samples from the worker's /metrics by their label values
    (``()`` for an unlabelled one); empty while it is not serving yet."""
    try:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.TransportError:
        return {}
    return {
        tuple(s.labels.values()): s.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for s in family.samples
    }


async def gauge(port: int, name: str) -> dict[tuple[str, str], float]:
    """A (topic, partition) gauge's samples."""
    return {(topic, partition): v for (topic, partition), v in (await samples(port, name)).items()}


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
