"""Our Kafka clients log in with SASL: a real Apache Kafka with a SASL_PLAINTEXT
listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; ``sasl_kafka`` in conftest).

Each mechanism: the stack's topic creation (admin client), the API's producer
and the read model's consumer, all configured through the same settings,
round-trip a message. The simulator produces through its CLI with the
``KAFKA_*`` variables, and the worker (Faust) scores an event. A wrong password
fails every one of them with an error that names the user, the mechanism and
the variables to check, and never shows the password.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas import topics
from services.api.producer import KafkaEventProducer, Outgoing
from services.readmodel.projector import make_consumer
from services.readmodel.settings import ReadModelSettings
from services.stack.kafka import SaslKafka
from services.stack.probe import run_sync
from services.stack.process import free_port
from services.stack.topics import ensure_topics
from streams.worker.kafka_security import KafkaLoginError, KafkaSecurity, start_client
from tests.conftest import SASL_USERS
from tests.integration.barepath import ROOT
from tests.integration.kafka_io import produce, read_until
from tests.integration.worker_process import running_worker

pytestmark = pytest.mark.integration

USER, PASSWORD = next(iter(SASL_USERS.items()))
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _security(mechanism: str, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_username": USER,
        "sasl_password": password,
    }


def _env(mechanism: str, password: str) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": mechanism,
        "KAFKA_SASL_USERNAME": USER,
        "KAFKA_SASL_PASSWORD": password,
    }


async def _connected(producer: KafkaEventProducer, within: float = 30.0) -> str | None:
    """None once the API producer is connected, else its last error after ``within`` s."""
    deadline = time.monotonic() + within
    while (error := await producer.check(5.0)) is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return error


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_api_producer_and_readmodel_consumer_round_trip(
    sasl_kafka: SaslKafka, mechanism: str, unique_name: Callable[[str], str]
) -> None:
    bootstrap, security = sasl_kafka.sasl_bootstrap, KafkaSecurity(**_security(mechanism))
    run_sync(ensure_topics(bootstrap, 1, security=security))
    value = f'{{"probe": "{uuid.uuid4()}"}}'.encode()

    async def scenario() -> list[bytes]:
        producer = KafkaEventProducer(bootstrap, security, retry_seconds=0.2)
        producer.start()
        try:
            assert await _connected(producer) is None
            await producer.send_all([Outgoing(topics.HEALTH, b"acme", value)])
        finally:
            await producer.stop()
        settings = ReadModelSettings(
            kafka_bootstrap_servers=bootstrap, group_id=unique_name("rm"), **_security(mechanism)
        )
        consumer = make_consumer(settings)
        await start_client(consumer, bootstrap, settings)
        seen: list[bytes] = []
        try:
            deadline = time.monotonic() + 30
            while value not in seen and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                seen += [r.value for batch in batches.values() for r in batch]
        finally:
            await consumer.stop()
        return seen

    assert value in run_sync(scenario())


def test_wrong_password_is_a_clear_login_error(sasl_kafka: SaslKafka) -> None:
    bootstrap = sasl_kafka.sasl_bootstrap
    wrong = "not-" + PASSWORD
    settings = ReadModelSettings(
        kafka_bootstrap_servers=bootstrap, **_security("SCRAM-SHA-256", wrong)
    )

    async def consumer_start() -> None:
        consumer = make_consumer(settings)
        try:
            await start_client(consumer, bootstrap, settings)
        finally:
            await consumer.stop()

    with pytest.raises(KafkaLoginError) as raised:
        run_sync(consumer_start())
    message = str(raised.value)
    assert f"refused the SCRAM-SHA-256 login of user {USER!r}" in message
    assert "KAFKA_SASL_PASSWORD" in message
    assert wrong not in message


def test_api_readiness_names_the_refused_login(sasl_kafka: SaslKafka) -> None:
    security = KafkaSecurity(**_security("PLAIN", "wrong-pw"))

    async def scenario() -> str | None:
        producer = KafkaEventProducer(sasl_kafka.sasl_bootstrap, security, retry_seconds=0.2)
        producer.start()
        try:
            return await _connected(producer, within=5.0)
        finally:
            await producer.stop()

    error = run_sync(scenario())
    assert error is not None and f"refused the PLAIN login of user {USER!r}" in error
    assert "wrong-pw" not in error


def test_topic_creation_with_a_wrong_password_says_so(sasl_kafka: SaslKafka) -> None:
    security = KafkaSecurity(**_security("SCRAM-SHA-512", "wrong-pw"))

    with pytest.raises(KafkaLoginError, match="refused the SCRAM-SHA-512 login"):
        run_sync(ensure_topics(sasl_kafka.sasl_bootstrap, 1, ["never"], security=security))


def _simulate(bootstrap: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "services.cli.main", "simulate", "--bootstrap", bootstrap,
            "--accounts", "5", "--days", "2", "--max-events", "200", "--rate", "0"]  # fmt: skip
    return subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_simulator_produces_with_credentials_and_refuses_wrong_ones(
    sasl_kafka: SaslKafka,
) -> None:
    bootstrap = sasl_kafka.sasl_bootstrap
    security = KafkaSecurity(**_security("SCRAM-SHA-512"))
    run_sync(ensure_topics(bootstrap, 1, security=security))

    done = _simulate(bootstrap, _env("SCRAM-SHA-512", PASSWORD))
    assert done.returncode == 0, done.stderr
    sent = int(done.stderr.split("simulate: ", 1)[1].split(" events to", 1)[0].replace(",", ""))
    assert sent > 0, done.stderr
    # Read back on the broker's plaintext listener: every event sent is there.
    kept = run_sync(
        read_until(sasl_kafka.server.address, topics.INPUT_TOPICS, lambda k: len(k) >= sent)
    )
    assert len(kept) == sent

    refused = _simulate(bootstrap, _env("SCRAM-SHA-512", "wrong-pw"))
    assert refused.returncode == 1
    assert f"refused the SCRAM-SHA-512 login of user {USER!r}" in refused.stderr
    assert "wrong-pw" not in refused.stderr


def test_worker_scores_over_sasl(
    sasl_kafka: SaslKafka, tmp_path: Path, unique_name: Callable[[str], str]
) -> None:
    """Faust's clients (consumer, producer, admin for its changelogs) log in too."""
    security = KafkaSecurity(**_security("SCRAM-SHA-256"))
    run_sync(ensure_topics(sasl_kafka.sasl_bootstrap, 1, security=security))
    account = unique_name("acct")
    login = {"id": f"{account}-1", "account_id": account, "type": "login",
             "time": "2026-11-02T09:15:00Z", "user_id": "u1"}  # fmt: skip
    env = {**_env("SCRAM-SHA-256", PASSWORD), "HEALTHSCORE_PARTITIONS": "1"}

    with running_worker(sasl_kafka.sasl_bootstrap, unique_name("app"), tmp_path, **env) as log:
        run_sync(
            produce(
                sasl_kafka.server.address, [(topics.USAGE, account.encode(), orjson.dumps(login))]
            )
        )
        scored = run_sync(
            read_until(
                sasl_kafka.server.address, topics.HEALTH, bool,
                keep=lambda r: r.key == account.encode(), timeout=90,
            )
        )  # fmt: skip
        assert scored, log.read_text()[-3000:]


def test_worker_stops_on_a_refused_login(
    sasl_kafka: SaslKafka, tmp_path: Path, unique_name: Callable[[str], str]
) -> None:
    env = {
        **os.environ,
        **_env("PLAIN", "wrong-pw"),
        "KAFKA_BOOTSTRAP_SERVERS": sasl_kafka.sasl_bootstrap,
        "HEALTHSCORE_APP_ID": unique_name("app"),
        "HEALTHSCORE_DATA_DIR": str(tmp_path),
        "HEALTHSCORE_WORKER_WEB_PORT": str(free_port()),
        "HEALTHSCORE_WORKER_METRICS_PORT": "0",
    }
    argv = [sys.executable, "-m", "services.cli.main", "worker", "-l", "warn"]

    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    assert f"refused the PLAIN login of user {USER!r}" in done.stderr, done.stderr[-3000:]
    assert "wrong-pw" not in done.stderr + done.stdout
