"""Create the contract topics on any Kafka-protocol broker (Tansu or Apache Kafka).

Topics are created explicitly, never by auto-create on first produce: the
contract needs every input topic to have the same partition count (so one
worker owns all of an account's streams) and the latest-value topics to be
compacted, and auto-create would give broker defaults for both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from schemas.topics import ALL_TOPICS, COMPACTED_TOPICS
from services.stack.process import StackError
from streams.worker.kafka_security import KafkaSecurity, client_kwargs, start_client

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


def topic_configs(name: str, compacted: Collection[str] = COMPACTED_TOPICS) -> dict[str, str]:
    """Per-topic configs: compaction for latest-value topics, broker defaults otherwise."""
    return {"cleanup.policy": "compact"} if name in compacted else {}


async def ensure_topics(
    bootstrap: str,
    partitions: int,
    names: Iterable[str] = ALL_TOPICS,
    *,
    compacted: Collection[str] = COMPACTED_TOPICS,
    max_wait: float = 30.0,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create the topics in ``names`` that do not exist yet; return the created ones.

    Idempotent: existing topics are left as they are (a different partition
    count is logged, not changed: repartitioning moves keys between workers and
    is an operator's decision). Returns after the broker's metadata shows every
    topic with a leader for each partition, so a producer can write at once.
    """
    from aiokafka.admin import NewTopic

    wanted = list(dict.fromkeys(names))
    admin = _admin(bootstrap, security)
    try:
        async with asyncio.timeout(max_wait):
            await start_client(admin, bootstrap, security)
            existing = set(await admin.list_topics())
            missing = [n for n in wanted if n not in existing]
            if missing:
                new = [NewTopic(n, partitions, 1, topic_configs=topic_configs(n, compacted))
                       for n in missing]  # fmt: skip
                response = await admin.create_topics(new)
                _raise_on_errors(response.topic_errors)
            counts = await _wait_for_leaders(admin, wanted)
    except TimeoutError as exc:
        raise StackError(f"creating topics on {bootstrap} took over {max_wait:.0f} s") from exc
    finally:
        await admin.close()
    for name, count in counts.items():
        if count != partitions:
            log.warning("topic %s has %d partitions, not %d", name, count, partitions)
    if missing:
        log.info("created %d topics on %s: %s", len(missing), bootstrap, ", ".join(missing))
    return missing


def _raise_on_errors(topic_errors: Iterable[tuple[object, ...]]) -> None:
    failures = [
        f"{t[0]}: error {t[1]}{f' ({t[2]})' if len(t) > 2 and t[2] else ''}"
        for t in topic_errors
        if t[1] not in (0, _TOPIC_ALREADY_EXISTS)
    ]
    if failures:
        raise StackError("could not create topics: " + "; ".join(failures))


async def partition_counts(
    bootstrap: str, names: Iterable[str], security: KafkaSecurity | None = None
) -> dict[str, int]:
    """Partition count per topic as the broker's metadata reports it (missing: absent)."""
    admin = _admin(bootstrap, security)
    try:
        await start_client(admin, bootstrap, security)
        described = await admin.describe_topics(list(names))
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


def _admin(bootstrap: str, security: KafkaSecurity | None) -> AIOKafkaAdminClient:
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=15000, **client_kwargs(security)
    )


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Poll metadata until every topic lists partitions that all have a leader.

    Apache Kafka answers CreateTopics once the controller has committed the
    topic; the broker's own metadata cache follows a moment later.
    """
    while True:
        described = await admin.describe_topics(names)
        counts = {
            t["topic"]: len(t["partitions"])
            for t in described
            if t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if len(counts) == len(names):
            return counts
        await asyncio.sleep(0.1)
