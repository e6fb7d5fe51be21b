"""API tests against a real, throwaway ``redis-server`` on a free loopback port.

Needs ``redis-server`` on PATH (skips otherwise). Kafka is replaced by a
recording fake through ``app.dependency_overrides``, so no broker is needed.
Each test starts from an empty Redis (FLUSHDB).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from tests.api.support import FakeProducer, free_port, make_app


@pytest.fixture(scope="session")
def api_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


@pytest.fixture(scope="module")
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture(scope="module")
def client(api_redis_url: str, producer: FakeProducer) -> Iterator[TestClient]:
    with TestClient(make_app(api_redis_url, producer)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def clean_state(api_redis_url: str, producer: FakeProducer) -> None:
    client = redis.Redis.from_url(api_redis_url)
    client.flushdb()
    client.close()
    producer.sent.clear()
    producer.failure = None
    producer.unready = None
