"""``--since``/``--until``: a backtest looks at one event-time range, and a bad
range or Kafka setting is a clear error (exit code 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from services.backtest.run import replay_history
from services.backtest.window import FileSource, Window
from services.cli.main import main
from services.simulator.clock import parse_rfc3339
from services.stack.process import free_port
from streams.processing.rules import load_rules


def _line(event_type: str, account: str, time: str, **fields: object) -> bytes:
    return orjson.dumps({"id": f"{account}-{event_type}-{time}", "account_id": account,
                         "type": event_type, "time": time, **fields})  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    lines = [
        _line("account_upserted", "acme", "2026-09-01T08:00:00Z", name="A", segment="smb"),
        _line("login", "acme", "2026-09-02T09:00:00Z", user_id="u1"),
        _line("login", "acme", "2026-09-05T09:00:00Z", user_id="u1"),
        _line("login", "acme", "2026-09-09T23:59:59Z", user_id="u1"),
        _line("login", "acme", "2026-09-10T00:00:00Z", user_id="u1"),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_a_file_backtest_keeps_only_the_events_of_the_range(history: Path) -> None:
    since, until = parse_rfc3339("2026-09-02T00:00:00Z"), parse_rfc3339("2026-09-10T00:00:00Z")
    ranged, _ = replay_history(
        FileSource(history), load_rules(), Window(since, until), progress=None
    )
    whole, _ = replay_history(FileSource(history), load_rules(), Window(), progress=None)

    assert (ranged.events, whole.events) == (3, 5)
    assert ranged.first_day == since // 86_400
    assert ranged.first_day + ranged.days - 1 == until // 86_400  # the clock runs to --until


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-09-10T00:00:00Z", "--until", "2026-09-10T00:00:00Z"], "must be before"),
        (["--since", "2026-09-10T00:00:00Z", "--until", "2026-09-01T00:00:00Z"], "must be before"),
        (["--since", "last week"], "--since: "),
        (["--bootstrap", "127.0.0.1:9092"], "--bootstrap goes with --from-kafka"),
    ],
)
def test_a_bad_range_is_a_clear_error(
    history: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "--from-file", str(history), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_one_source_only(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backtest", "--from-file", str(history), "--from-kafka"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_no_broker_at_the_address_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["backtest", "--from-kafka", "--bootstrap", bootstrap, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"cannot read from Kafka at {bootstrap}" in err
    assert "Traceback" not in err


def test_bad_security_settings_are_named_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2-secret")
    assert main(["backtest", "--from-kafka", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "KAFKA_SASL_MECHANISM" in err
    assert "hunter2-secret" not in err
