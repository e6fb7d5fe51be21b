"""The fault suite's shared history and broker: one simulated history (>= 100k
events over >= 5k accounts, dunning cases open at its end), its uninterrupted
replay, and one Apache Kafka holding it on 3 partitions per topic, produced
once for every scenario of the module (each scenario is its own consumer
group and reads its outputs from where the topics ended when it began)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from schemas import topics
from services.simulator import Simulation
from services.stack.probe import run_sync
from services.stack.process import StackError
from services.stack.topics import ensure_topics
from tests.faults.broker import RestartableBroker
from tests.integration.kafka_io import produce
from tests.integration.replaying import HISTORY_END, replay_outputs

PARTITIONS = 3
ACCOUNTS = 5000
DAYS = 3


def poison(key: bytes) -> list[tuple[str, bytes, bytes]]:
    """Inputs no worker may apply, produced in the middle of the history (not
    in the replayed file): one dated 2099 (bounded time), one not JSON, one
    over the size limit. Every scenario meets them; none may change an output."""
    account = key.decode()
    future = {"id": "poison-2099", "account_id": account, "type": "login",
              "time": "2099-01-01T00:00:00Z", "user_id": "u1"}  # fmt: skip
    large = {**future, "id": "poison-large", "time": "2026-11-20T00:00:00Z",
             "user_id": "u" * 100_000}  # fmt: skip
    return [
        (topics.USAGE, key, orjson.dumps(future)),
        (topics.USAGE, key, b"not json"),
        (topics.USAGE, key, orjson.dumps(large)),
    ]


@dataclass(frozen=True)
class History:
    path: Path
    events: int
    accounts: int
    expected: dict[str, list[bytes]]
    records: list[tuple[str, bytes, bytes]]


@pytest.fixture(scope="session")
def fault_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    sim = Simulation.create(accounts=ACCOUNTS, days=DAYS, seed=36, end=HISTORY_END)
    records = list(sim.events())
    path = tmp_path_factory.mktemp("faults") / "history.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _topic, _key, value in records))
    expected = replay_outputs(path, PARTITIONS)
    steps = Counter(orjson.loads(v)["data"]["step"] for v in expected[topics.DUNNING])
    assert steps["retry_scheduled"] > 0, "dunning cases must be in flight"
    accounts = len({key for _topic, key, _value in records})
    assert len(records) >= 100_000 and accounts >= ACCOUNTS
    third = len(records) // 3
    produced = [*records[:third], *poison(records[third][1]), *records[third:]]
    return History(path, len(produced), accounts, expected, produced)


@pytest.fixture(scope="session")
def fault_broker(fault_history: History) -> Iterator[RestartableBroker]:
    """An Apache Kafka of the suite's own, the history produced into it; one
    the broker fault can kill and start again."""
    from services.stack.kafka import start_kafka

    try:
        broker = RestartableBroker(start_kafka())
    except StackError as exc:
        reason = f"Apache Kafka could not be started: {exc}"
        if os.environ.get("HEALTHSCORE_REQUIRE_APACHE_KAFKA") == "1":
            pytest.fail(reason + " (HEALTHSCORE_REQUIRE_APACHE_KAFKA=1)", pytrace=False)
        pytest.skip(reason)
    try:
        run_sync(ensure_topics(broker.address, PARTITIONS))
        run_sync(produce(broker.address, fault_history.records))
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def fault_kafka(fault_broker: RestartableBroker) -> str:
    return fault_broker.address
