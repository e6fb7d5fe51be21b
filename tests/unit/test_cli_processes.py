"""``healthscore worker|api|notifier|readmodel`` run the ``python -m`` entry points."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.cli import main as cli_main
from services.cli import processes
from services.stack.process import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "module", "passed"),
    [
        (["worker", "-l", "info"], "streams", ["worker", "-l", "info"]),
        (["api"], "services.api", []),
        (["notifier", "--workers-only"], "services.notifier", ["--workers-only"]),
        (["readmodel"], "services.readmodel", []),
    ],
)
def test_each_subcommand_runs_its_module_as_main(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], module: str, passed: list[str]
) -> None:
    ran: list[tuple[str, str, list[str]]] = []

    def fake_run_module(name: str, *, run_name: str, alter_sys: bool) -> dict[str, Any]:
        ran.append((name, run_name, sys.argv[1:]))
        raise SystemExit("stopped: a message for stderr")

    monkeypatch.setattr(processes.runpy, "run_module", fake_run_module)
    monkeypatch.setattr(sys, "argv", ["healthscore", *argv])

    with pytest.raises(SystemExit, match="a message for stderr"):
        cli_main.main(argv)
    assert ran == [(module, "__main__", passed)]


def test_the_subcommands_are_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main.main(["--help"])
    out = capsys.readouterr().out
    for name in ("worker", "api", "notifier", "readmodel"):
        assert f"\n    {name}" in out


def _healthscore(*argv: str) -> list[str]:
    return [sys.executable, "-m", "services.cli.main", *argv]


def test_worker_hands_its_options_to_faust() -> None:
    done = subprocess.run(
        _healthscore("worker", "--help"), cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert "Start worker instance" in done.stdout and "--loglevel" in done.stdout


def test_api_serves() -> None:
    port = free_port()
    env = {**os.environ, "HEALTHSCORE_API_PORT": str(port), "HEALTHSCORE_ENV": "development",
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}  # fmt: skip
    proc = subprocess.Popen(
        _healthscore("api"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while status != 200 and time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.2)
        assert status == 200, proc.stderr.read().decode() if proc.poll() is not None else ""
    finally:
        proc.terminate()
        proc.wait(30)
