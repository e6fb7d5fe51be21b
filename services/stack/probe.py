"""Readiness probes: does this address really speak Kafka / Redis yet?

An open TCP port is not enough: the Kafka JVM opens its socket before the
broker has registered with the controller, and a client that connects then gets
metadata without brokers. A probe therefore asks the protocol itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even when an event loop is running.

    The coroutine gets a fresh loop in a worker thread, so a sync pytest fixture
    or the CLI can call async admin code whether or not they sit inside a loop.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def kafka_broker_count(bootstrap: str, max_wait: float = 2.0) -> int:
    """How many brokers the cluster at ``bootstrap`` lists in its metadata (0 on failure)."""
    from aiokafka.admin import AIOKafkaAdminClient

    ms = int(max_wait * 1000)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=ms, retry_backoff_ms=50
    )
    try:
        async with asyncio.timeout(max_wait):
            await admin.start()
            cluster = await admin.describe_cluster()
    except Exception as exc:  # any failure simply means "not ready yet"
        log.debug("kafka probe %s: %r", bootstrap, exc)
        return 0
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    return len(cluster.get("brokers", []))


def kafka_is_ready(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when ``bootstrap`` answers a Metadata request listing at least one broker.

    A plain TCP connect goes first: it is cheap, and it spares the log one
    aiokafka "Unable connect" error per poll while the server is still starting.
    """
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not _tcp_open(host, int(port), timeout):
        return False
    return run_sync(kafka_broker_count(bootstrap, max_wait=timeout)) > 0


def _tcp_open(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_is_ready(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when ``host:port`` answers ``PING`` with ``+PONG`` (raw RESP, no client needed)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
