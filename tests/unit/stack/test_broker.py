"""``HEALTHSCORE_BROKER``: which broker ``make run`` embeds, and the fallback to Tansu."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from services.stack import kafka
from services.stack.broker import (
    BrokerChoice,
    BrokerKind,
    BrokerRequest,
    choose_broker,
    start_broker,
)
from services.stack.process import ServerProcess, StackError
from services.stack.settings import StackSettings

NO_JVM = "`java` not found on PATH"


@pytest.mark.parametrize(
    ("requested", "unavailable", "kind"),
    [
        ("auto", None, "kafka"),
        ("auto", NO_JVM, "tansu"),
        ("kafka", None, "kafka"),
        ("tansu", None, "tansu"),
        ("tansu", NO_JVM, "tansu"),
    ],
)
def test_choose_broker(requested: BrokerRequest, unavailable: str | None, kind: str) -> None:
    choice = choose_broker(requested, unavailable)

    assert choice.kind == kind
    assert choice.fallback == (requested == "auto" and kind == "kafka")


def test_auto_says_why_it_fell_back_to_tansu() -> None:
    assert NO_JVM in choose_broker("auto", NO_JVM).why


def test_kafka_forced_without_a_jvm_fails_with_the_reason() -> None:
    with pytest.raises(
        StackError, match=r"HEALTHSCORE_BROKER=kafka.*java.*HEALTHSCORE_BROKER=tansu"
    ):
        choose_broker("kafka", NO_JVM)


def test_the_default_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTHSCORE_BROKER", raising=False)
    assert StackSettings().broker == "auto"
    monkeypatch.setenv("HEALTHSCORE_BROKER", "redpanda")
    with pytest.raises(ValueError, match="HEALTHSCORE_BROKER"):
        StackSettings()


class _Starts:
    """Fake start functions: record what was started; Kafka may fail."""

    def __init__(self, kafka_fails: bool) -> None:
        self.kafka_fails = kafka_fails
        self.started: list[str] = []

    def starters(self) -> dict[BrokerKind, Callable[[str, int], ServerProcess]]:
        return {"kafka": self._kafka, "tansu": self._tansu}

    def _kafka(self, host: str, port: int) -> ServerProcess:
        self.started.append("kafka")
        if self.kafka_fails:
            raise StackError(
                "kafka exited with code 1 before it was ready\nUnsupportedClassVersion"
            )
        return cast(ServerProcess, "kafka-server")

    def _tansu(self, host: str, port: int) -> ServerProcess:
        self.started.append("tansu")
        return cast(ServerProcess, "tansu-server")


def test_auto_falls_back_to_tansu_when_kafka_fails_to_start() -> None:
    starts, said = _Starts(kafka_fails=True), list[str]()

    server, ran = start_broker(
        choose_broker("auto", None),
        "127.0.0.1",
        0,
        said.append,
        starters=starts.starters(),
    )

    assert starts.started == ["kafka", "tansu"]
    assert server is cast(ServerProcess, "tansu-server")
    assert ran.kind == "tansu" and "Apache Kafka failed: kafka exited with code 1" in ran.why
    assert any("starting Tansu instead" in line for line in said)


def test_forced_kafka_does_not_fall_back() -> None:
    starts = _Starts(kafka_fails=True)

    with pytest.raises(StackError, match="exited with code 1"):
        start_broker(
            BrokerChoice("kafka", "HEALTHSCORE_BROKER=kafka"),
            "127.0.0.1",
            0,
            print,
            starters=starts.starters(),
        )
    assert starts.started == ["kafka"]


def test_kafka_is_unavailable_without_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)

    reason = kafka.kafka_unavailable_reason()

    assert reason is not None and "java" in reason
    assert choose_broker("auto", reason).kind == "tansu"


def test_kafka_is_unavailable_without_jars_or_mvn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no cached classpath

    reason = kafka.kafka_unavailable_reason()

    assert reason is not None and "mvn" in reason
    mvn = tmp_path / "mvn"
    mvn.write_text("#!/bin/sh\n")
    mvn.chmod(0o755)
    assert kafka.kafka_unavailable_reason() is None


def test_the_readme_names_the_default_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTHSCORE_BROKER", raising=False)
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    rows = [r for r in readme.splitlines() if r.startswith("| `HEALTHSCORE_BROKER` |")]

    assert len(rows) == 1, "README's configuration table has no HEALTHSCORE_BROKER row"
    default = rows[0].split("|")[2].strip().strip("`")
    assert default == StackSettings().broker
    assert "high-water" in rows[0] and "kcat" in rows[0]
