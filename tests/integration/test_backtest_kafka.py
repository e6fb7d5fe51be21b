"""``healthscore backtest --from-kafka``: the input topics over an event-time range
give the same backtest as the JSON Lines file of the same events.

Apache Kafka only: Tansu answers ``offsets_for_times`` with offset 0 and reports
high-water marks short, so a read to the end offsets would miss its last records.
The history is produced as a live producer would have stamped it (record
timestamp = event time), so ``--since`` really seeks, to topics that keep it;
two undecodable records sit inside the range, in the file and on the topics.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas import topics
from services.backtest.kafka_history import KafkaSource
from services.backtest.run import replay_history
from services.backtest.window import Window
from services.cli.main import main
from services.simulator import Simulation
from services.stack.topics import ensure_topics
from streams.processing.rules import load_rules

END = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
SINCE = "2026-07-20T00:00:00Z"
UNTIL = "2026-10-20T00:00:00Z"
BAD = [b"{not json", b'{"type": "login", "account_id": "acme"}']
BAD_AT_MS = int(datetime(2026, 9, 1, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Produced:
    bootstrap: str
    file: Path
    times: list[datetime]
    """Event time of every valid event, in file order."""


async def _produce(bootstrap: str, records: list[tuple[str, bytes, bytes, int]]) -> None:
    # Kept forever and never compacted: the records are stamped months ago, and
    # the broker's 7-day retention would delete them while the tests read.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        kept = {"retention.ms": "-1", "cleanup.policy": "delete"}
        await admin.create_topics(
            [NewTopic(t, 4, 1, topic_configs=kept) for t in topics.INPUT_TOPICS]
        )
    finally:
        await admin.close()
    await ensure_topics(bootstrap, 4, topics.INPUT_TOPICS)  # waits for the partitions' leaders
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value=value, key=key, timestamp_ms=at_ms)
            for topic, key, value, at_ms in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def produced(
    module_apache_kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Produced]:
    sim = Simulation.create(accounts=60, days=120, seed=5, end=END)
    records, times = [], []
    for topic, key, value in sim.events():
        at = datetime.fromisoformat(orjson.loads(value)["time"])
        records.append((topic, key, value, int(at.timestamp() * 1000)))
        times.append(at)
    records += [(topics.USAGE, b"acme", bad, BAD_AT_MS) for bad in BAD]
    records.sort(key=lambda record: record[3])  # in time order, as produced live
    path = tmp_path_factory.mktemp("history") / "history.jsonl"
    path.write_bytes(b"\n".join(value for _t, _k, value, _at in records) + b"\n")
    asyncio.run(_produce(module_apache_kafka_bootstrap, records))
    yield Produced(module_apache_kafka_bootstrap, path, times)


def _backtest(tmp_path: Path, name: str, *source: str) -> dict[str, object]:
    out = tmp_path / f"{name}.json"
    window = ["--since", SINCE, "--until", UNTIL, "--warm-up-days", "14"]
    code = main(["backtest", *source, *window, "--json", str(out)])
    assert code == 0
    loaded: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def test_kafka_backtest_equals_the_file_backtest_of_the_same_range(
    produced: Produced, tmp_path: Path
) -> None:
    from_kafka = _backtest(tmp_path, "kafka", "--from-kafka", "--bootstrap", produced.bootstrap)
    from_file = _backtest(tmp_path, "file", "--from-file", str(produced.file))

    assert from_kafka == from_file
    history = from_kafka["history"]
    assert isinstance(history, dict)
    assert history["rejected"] == len(BAD)  # counted, not fatal
    assert history["churners"] >= 5


def test_events_outside_the_range_are_left_out_and_not_read(produced: Produced) -> None:
    since, until = datetime.fromisoformat(SINCE), datetime.fromisoformat(UNTIL)
    inside = sum(since <= at < until for at in produced.times)
    assert 0 < inside < len(produced.times)
    # The seek starts at the records stamped an hour (the worker's future-time
    # tolerance) before --since; all of the later ones are the end offsets' range.
    stamped_from = sum(at >= since - timedelta(hours=1) for at in produced.times) + len(BAD)
    lines: list[str] = []
    window = Window(int(since.timestamp()), int(until.timestamp()))

    history, summary = replay_history(
        KafkaSource(produced.bootstrap), load_rules(), window, progress=lines.append
    )

    err = "\n".join(lines)
    assert history.events == inside, err
    assert summary.rejected == len(BAD)
    assert _count(r"reading ([\d,]+) records", err) == stamped_from
    # Each partition is left once its events run a day past --until.
    assert inside < _count(r"read ([\d,]+) records:", err) < stamped_from - len(BAD)


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, text
    return int(found[1].replace(",", ""))


def test_missing_input_topics_are_a_clear_error(
    fresh_tansu_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["backtest", "--from-kafka", "--bootstrap", fresh_tansu_bootstrap, "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no topic cs.usage.v1, cs.tickets.v1" in err
    assert "Traceback" not in err
