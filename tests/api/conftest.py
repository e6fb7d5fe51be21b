"""API tests against the session Redis from ``tests/conftest.py`` (``redis_url``).

Kafka is replaced by a recording fake through ``app.dependency_overrides``, so
no broker is needed. Each test starts from an empty Redis (``clean_redis_url``)
and a fake producer with nothing recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.support import FakeProducer, make_app


@pytest.fixture(scope="module")
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture(scope="module")
def client(redis_url: str, producer: FakeProducer) -> Iterator[TestClient]:
    with TestClient(make_app(redis_url, producer)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def clean_state(clean_redis_url: str, producer: FakeProducer) -> None:
    producer.sent.clear()
    producer.failure = None
    producer.unready = None
