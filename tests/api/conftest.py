"""API tests against a real, throwaway ``redis-server`` on a free loopback port.

Needs ``redis-server`` on PATH (skips otherwise). Kafka is replaced by a
recording fake through ``app.dependency_overrides``, so no broker is needed.
Each test starts from an empty Redis (FLUSHDB).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from tests.api.support import FakeProducer, make_app, start_redis


@pytest.fixture(scope="session")
def api_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


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
