"""``healthscore simulate`` argument handling and file output (no broker needed)."""

from __future__ import annotations

import argparse
import socket

import orjson
import pytest

from services.cli import simulate


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="healthscore simulate")
    simulate.configure(parser)
    return parser.parse_args(argv)


def run(*argv: str) -> int:
    return simulate.run(parse(*argv))


FIXED = ("--accounts", "12", "--days", "5", "--end", "2026-11-23T00:00:00Z")


def test_output_with_a_fixed_end_is_byte_deterministic(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run(*FIXED, "--output", str(first)) == 0
    assert run(*FIXED, "--output", str(second)) == 0
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_bytes().splitlines()
    assert lines and all(orjson.loads(line)["account_id"] for line in lines)


def test_max_events_and_follow_write_exactly_n_lines(tmp_path):
    out = tmp_path / "live.jsonl"
    assert run(*FIXED, "--follow", "--max-events", "3000", "--output", str(out)) == 0
    assert len(out.read_bytes().splitlines()) == 3000


def test_output_to_stdout(capsysbinary):
    assert run(*FIXED, "--max-events", "10", "--output", "-") == 0
    assert len(capsysbinary.readouterr().out.splitlines()) == 10


def test_rate_defaults_depend_on_the_sink():
    assert parse("--output", "x").rate is None  # resolved to 0 (unpaced) when run
    assert simulate.DEFAULT_PRODUCE_RATE == 500


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--accounts", "0"), "--accounts: must be at least 1"),
        (("--days", "x"), "--days: 'x' is not an integer"),
        (("--rate", "-5"), "--rate: must be a finite number >= 0"),
        (("--end", "2026-11-23T00:00:00"), "--end: timestamp"),
        (("--end", "yesterday"), "--end:"),
        (("--max-events", "0"), "--max-events: must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_clearly(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path, capsys):
    assert run(*FIXED, "--output", str(tmp_path / "missing" / "x.jsonl")) == 1
    assert "cannot write" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_names_the_bootstrap(capsys):
    bootstrap = f"127.0.0.1:{free_port()}"
    assert run(*FIXED, "--bootstrap", bootstrap, "--max-events", "10") == 1
    err = capsys.readouterr().err
    assert f"cannot connect to a Kafka broker at {bootstrap}" in err
    assert "Traceback" not in err


def test_bootstrap_defaults_to_the_environment(monkeypatch, capsys):
    bootstrap = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    assert run(*FIXED, "--max-events", "10") == 1
    assert bootstrap in capsys.readouterr().err
