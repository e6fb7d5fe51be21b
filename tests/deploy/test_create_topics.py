"""deploy/kafka/create-topics.sh creates exactly the contract topics with one
partition count and refuses a cluster whose topics disagree. Runs the real
script against a stub ``kafka-topics.sh`` that records its arguments (a real
broker run belongs to the Apache Kafka integration layer)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from schemas import topics
from tests.deploy.promql import ROOT

SCRIPT = ROOT / "deploy" / "kafka" / "create-topics.sh"

# Answers --describe with $STUB_PARTITIONS partition lines, logs every call.
_STUB = """#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG"
if [[ " $* " == *" --describe "* ]]; then
  echo "Topic: t	TopicId: x	PartitionCount: $STUB_PARTITIONS	ReplicationFactor: 1"
  for ((i = 0; i < STUB_PARTITIONS; i++)); do echo "	Topic: t	Partition: $i	Leader: 1"; done
fi
"""


def _run(tmp_path: Path, *, partitions: int, existing: int) -> tuple[int, list[list[str]]]:
    (tmp_path / "kafka-topics.sh").write_text(_STUB)
    (tmp_path / "kafka-topics.sh").chmod(0o755)
    log = tmp_path / "calls.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "KAFKA_BIN": str(tmp_path),
        "BOOTSTRAP": "broker:9092",
        "PARTITIONS": str(partitions),
        "STUB_PARTITIONS": str(existing),
        "STUB_LOG": str(log),
    }
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, timeout=30)
    calls = [shlex.split(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result.returncode, calls


def _created(calls: list[list[str]]) -> dict[str, list[str]]:
    return {c[c.index("--topic") + 1]: c for c in calls if "--create" in c}


def test_creates_every_contract_topic_with_the_same_partitions(tmp_path: Path) -> None:
    code, calls = _run(tmp_path, partitions=12, existing=12)
    assert code == 0
    created = _created(calls)
    assert set(created) == set(topics.ALL_TOPICS)
    for topic, call in created.items():
        assert call[call.index("--partitions") + 1] == "12"
        assert "--if-not-exists" in call
        assert call[call.index("--bootstrap-server") + 1] == "broker:9092"
        assert ("cleanup.policy=compact" in call) == (topic in topics.COMPACTED_TOPICS)


@pytest.mark.parametrize("existing", [4, 0])
def test_fails_when_existing_topics_have_another_partition_count(
    tmp_path: Path, existing: int
) -> None:
    code, _ = _run(tmp_path, partitions=12, existing=existing)
    assert code != 0
