"""Shared fixtures: real brokers and Redis on loopback, started lazily, stopped always.

Nothing starts unless a test asks for it, so the unit layers stay fast.
Tests that use a broker fixture are marked ``integration`` automatically
(``make test-fast`` deselects them). Redis alone does not mark a test: it
starts in ~50 ms, and the API layer, which ``make test-fast`` runs (STYLE §8),
needs one; Redis-only modules under ``tests/integration/`` mark themselves.

- ``tansu_bootstrap``: one in-memory Tansu for the session (~0.2 s to start).
  Tansu reports high-water marks short: never wait for lag = 0 on it.
- ``fresh_tansu_bootstrap``: a new, empty Tansu for one test (use it when the
  test needs the fixed contract topic names to itself).
- ``apache_kafka_bootstrap``: Apache Kafka (KRaft, official jars via ``mvn``;
  first run downloads them into ~/.m2, later starts take ~10 s). Skips when it
  cannot start (no Java/Maven), but fails with ``HEALTHSCORE_REQUIRE_APACHE_KAFKA=1``
  (CI sets it).
- ``module_apache_kafka_bootstrap``: a new, empty Apache Kafka shared by the
  tests of one module (the contract topics to that module, one start).
- ``sasl_kafka``: Apache Kafka with a ``SASL_PLAINTEXT`` listener (PLAIN and
  SCRAM-SHA-256/512) knowing ``SASL_USERS``; a :class:`~services.stack.kafka.SaslKafka`.
- ``kafka_bootstrap``: parametrized over both brokers (ids ``tansu``, ``apache``):
  a contract test written once runs against each.
- ``redis_url`` (session) and ``clean_redis_url`` (flushed before the test).
- ``unique_name``, ``topic_factory``, ``consumer_group``: per-test names, so
  tests sharing a session broker never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import pytest

from services.stack.probe import run_sync
from services.stack.process import ServerProcess, StackError
from streams.speedups import native

# The suite is an entry point like the worker: it runs the compiled engine when
# one is built for these sources (HEALTHSCORE_NATIVE=off runs it pure).
native.install()

if TYPE_CHECKING:
    from services.stack.kafka import SaslKafka

T = TypeVar("T")

SERVER_FIXTURES = frozenset(
    {
        "tansu_bootstrap",
        "fresh_tansu_bootstrap",
        "apache_kafka_bootstrap",
        "fresh_apache_kafka_bootstrap",
        "module_apache_kafka_bootstrap",
        "sasl_kafka",
        "kafka_bootstrap",
    }
)
BROKER_FIXTURES = {"tansu": "tansu_bootstrap", "apache": "apache_kafka_bootstrap"}
#: The users of the ``sasl_kafka`` broker: name -> password.
SASL_USERS = {"healthscore": "s3cret-pw-9f2c"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a real broker as ``integration``."""
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def tansu_bootstrap() -> Iterator[str]:
    from services.stack.tansu import start_tansu

    yield from _serving(start_tansu)


@pytest.fixture
def fresh_tansu_bootstrap() -> Iterator[str]:
    from services.stack.tansu import start_tansu

    yield from _serving(start_tansu)


def _start_apache_kafka(request: pytest.FixtureRequest) -> Iterator[str]:
    from services.stack.kafka import start_kafka

    server = _or_skip(lambda: start_kafka(progress=_terminal_writer(request)))
    try:
        yield server.address
    finally:
        server.stop()


def _or_skip(start: Callable[[], T]) -> T:
    """``start()``; a StackError skips the test, or fails it in CI."""
    try:
        return start()
    except StackError as exc:
        reason = f"Apache Kafka could not be started: {exc}"
        if os.environ.get("HEALTHSCORE_REQUIRE_APACHE_KAFKA") == "1":
            pytest.fail(reason + " (HEALTHSCORE_REQUIRE_APACHE_KAFKA=1)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sasl_kafka(request: pytest.FixtureRequest) -> Iterator[SaslKafka]:
    from services.stack.kafka import start_sasl_kafka

    broker = _or_skip(lambda: start_sasl_kafka(SASL_USERS, progress=_terminal_writer(request)))
    try:
        yield broker
    finally:
        broker.server.stop()


@pytest.fixture(scope="session")
def apache_kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _start_apache_kafka(request)


@pytest.fixture
def fresh_apache_kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty Apache Kafka for one test (~10 s). For tests that need the
    contract topics to themselves AND exact high-water marks - table recovery
    after a restart reads the changelog up to them, which Tansu reports short."""
    yield from _start_apache_kafka(request)


@pytest.fixture(scope="module")
def module_apache_kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty Apache Kafka for the tests of one module: the contract topics
    to themselves, exact high-water marks and timestamp lookups (Tansu answers
    ``offsets_for_times`` with offset 0), one ~10 s start for the module."""
    yield from _start_apache_kafka(request)


@pytest.fixture(scope="session", params=sorted(BROKER_FIXTURES), ids=sorted(BROKER_FIXTURES))
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """The bootstrap address of each broker in turn (Apache Kafka, then Tansu)."""
    address: str = request.getfixturevalue(BROKER_FIXTURES[request.param])
    return address


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    from services.stack.redis import start_redis

    yield from _serving(start_redis)


@pytest.fixture
def clean_redis_url(redis_url: str) -> str:
    """The session Redis, emptied (FLUSHALL) before this test."""
    import redis

    with redis.Redis.from_url(redis_url) as client:
        client.flushall()
    return redis_url


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``unique_name("orders")`` -> ``"orders-test_x-3f2a9c1b"``: new on every call."""
    test = request.node.name.split("[")[0][:40]

    def make(prefix: str = "t") -> str:
        return f"{prefix}-{test}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def topic_factory(unique_name: Callable[[str], str]) -> Callable[..., str]:
    """``topic_factory(bootstrap, partitions=1, prefix="t", compacted=False) -> name``.

    Creates a uniquely named topic and waits until it has leaders.
    """
    from services.stack.topics import ensure_topics

    def make(
        bootstrap: str, partitions: int = 1, *, prefix: str = "t", compacted: bool = False
    ) -> str:
        name = unique_name(prefix)
        run_sync(
            ensure_topics(bootstrap, partitions, [name], compacted={name} if compacted else ())
        )
        return name

    return make


@pytest.fixture
def consumer_group(unique_name: Callable[[str], str]) -> str:
    """A consumer-group id no other test uses."""
    return unique_name("group")


def _serving(start: Callable[[], ServerProcess]) -> Iterator[str]:
    """Start a server, yield its address, and stop it even when the test failed."""
    server = start()
    try:
        yield server.address
    finally:
        server.stop()


def _terminal_writer(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Progress lines straight to the terminal, past pytest's capture (cold mvn runs)."""
    capman = request.config.pluginmanager.getplugin("capturemanager")

    def write(line: str) -> None:
        if capman is None:
            return
        with capman.global_and_fixture_disabled():
            print(f"\n[apache-kafka] {line}", flush=True)

    return write
