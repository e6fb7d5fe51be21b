"""The README's five-minute try-it, run command by command against the whole pipeline.

The README marks its walkthrough with fenced blocks: ```` ```sh try-it-env ````
names the variables a reader copies from ``make run``'s summary (this test
supplies them: the pipeline's API URL and key, a free port), and each
```` ```sh try-it ```` block holds commands separated by blank lines. They run
in order in ``bash`` with ``errexit`` and ``pipefail``, like one shell session:
variables a command sets (``SECRET=$(...)``) are there for the next ones, and a
command ending in ``&`` keeps running in the background, as in a terminal.

Each command must exit 0 and show what the README says it shows. A read that
comes too early (the pipeline is asynchronous) is run again, as the README
tells a reader to, for at most ``READ_WITHIN`` seconds. ``EXPECTED`` pairs each
command with its check, in order, so a changed walkthrough fails here until the
test says what the new command must show.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.stack.process import free_port
from tests.e2e.pipeline import Pipeline
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ENV_VARS = ("HEALTHSCORE_URL", "KEY", "HOOK_PORT")
READ_WITHIN = 30.0
ACCOUNT = "try-acme"

_BLOCK = re.compile(r"^```sh (try-it(?:-env)?)\n(.*?)^```$", re.S | re.M)


def readme_blocks(kind: str) -> list[str]:
    return [body for k, body in _BLOCK.findall(README.read_text()) if k == kind]


def readme_commands() -> list[str]:
    """Every try-it command, in order; a command is a run of non-blank lines."""
    return [
        command.strip()
        for block in readme_blocks("try-it")
        for command in re.split(r"\n\s*\n", block)
        if command.strip()
    ]


def _json(out: str) -> Any:
    return json.loads(out)


def _secret_set(out: str, env: dict[str, str]) -> bool:
    return env.get("SECRET", "").startswith("whsec_")


def _accepted(count: int) -> Callable[[str, dict[str, str]], bool]:
    return lambda out, env: _json(out)["accepted"] == count


def _at_risk(out: str, env: dict[str, str]) -> bool:
    health = _json(out)
    return bool(
        health["account_id"] == ACCOUNT
        and health["band"] == "at_risk"
        and 0 <= health["score"] < 60
        and health["dimensions"]
        and health["reasons"]
    )


def _alerted(out: str, env: dict[str, str]) -> bool:
    return any(
        alert["type"] == "io.healthscore.alert.health_below_threshold"
        and alert["subject"] == ACCOUNT
        for alert in _json(out)["items"]
    )


def _dunning(out: str, env: dict[str, str]) -> bool:
    return any(case["invoice_id"] == "in_1" for case in _json(out)["open_cases"])


def _now_set(out: str, env: dict[str, str]) -> bool:
    """The events' time: an RFC 3339 UTC timestamp of this minute."""
    now = datetime.strptime(env.get("NOW", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return abs((datetime.now(UTC) - now).total_seconds()) < 60


def _started(out: str, env: dict[str, str]) -> bool:
    """A background command: :func:`_wait_started` checks it is listening."""
    return True


@dataclass(frozen=True)
class Step:
    marker: str  # a piece of the command, so the README and this list stay aligned
    check: Callable[[str, dict[str, str]], bool]
    read: bool = False  # a GET: run again until the check holds


EXPECTED = (
    Step("/v1/subscriptions", _secret_set),
    Step("webhook_receiver.py", _started),
    Step('"account_upserted"', _accepted(1)),
    Step("NOW=$(date", _now_set),
    Step('"payment_failed"', _accepted(4)),
    Step(f"/v1/accounts/{ACCOUNT}/health", _at_risk, read=True),
    Step(f"/v1/alerts?account_id={ACCOUNT}", _alerted, read=True),
    Step(f"/v1/accounts/{ACCOUNT}/dunning", _dunning, read=True),
)
DELIVERED = (
    "received io.healthscore.alert.health_below_threshold for try-acme",
    "received io.healthscore.dunning.payment_failed_notice for try-acme",
)


class Session:
    """One bash session spread over processes: ``state`` carries exported variables."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.state = workdir / "state.sh"
        self.state.write_text("")
        self.env = env
        self.background: list[subprocess.Popen[bytes]] = []

    def _script(self, command: str) -> str:
        state = shlex.quote(str(self.state))
        return (
            f"set -a -e -o pipefail\nsource {state}\ntrap 'export -p > {state}' EXIT\n{command}\n"
        )

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self._script(command)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self, command: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", self._script(command)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: close() stops bash and the command
            )
        self.background.append(proc)
        return proc

    def exported(self) -> dict[str, str]:
        """Variables the commands so far have set."""
        out = subprocess.run(
            ["bash", "-c", f"source {shlex.quote(str(self.state))}; env -0"],
            env=self.env,
            capture_output=True,
            check=True,
        ).stdout
        return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)

    def close(self) -> None:
        for proc in self.background:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


def _venv_python(command: str) -> str:
    """The README's ``.venv/bin/python`` is this interpreter (CI may use another venv)."""
    return command.replace(".venv/bin/python", shlex.quote(sys.executable))


@pytest.fixture
def session(pipeline: Pipeline, tmp_path: Path) -> Iterator[Session]:
    env = {
        **os.environ,
        "HEALTHSCORE_URL": pipeline.api_url,
        "KEY": pipeline.api_key,
        "HOOK_PORT": str(free_port()),
    }
    running = Session(tmp_path, env)
    try:
        yield running
    finally:
        running.close()


def test_the_env_block_names_what_make_run_prints() -> None:
    (block,) = readme_blocks("try-it-env")
    names = re.findall(r"^export (\w+)=", block, re.M)

    assert tuple(names) == ENV_VARS


def test_every_command_has_its_expectation() -> None:
    commands = readme_commands()

    assert len(commands) == len(EXPECTED), commands
    for command, step in zip(commands, EXPECTED, strict=True):
        assert step.marker in command


def _wait_started(proc: subprocess.Popen[bytes], log: Path, command: str) -> None:
    deadline = time.monotonic() + 15
    while "listening on" not in log.read_text():
        assert proc.poll() is None, f"$ {command}\nexited {proc.returncode}\n{log.read_text()}"
        assert time.monotonic() < deadline, f"$ {command}\nnot listening within 15 s"
        time.sleep(0.05)


def test_the_walkthrough_runs_as_written(session: Session, tmp_path: Path) -> None:
    receiver_log = tmp_path / "receiver.log"
    for command, step in zip(readme_commands(), EXPECTED, strict=True):
        command = _venv_python(command)
        if command.endswith("&"):
            proc = session.start(command.removesuffix("&").strip(), receiver_log)
            _wait_started(proc, receiver_log, command)
            continue
        deadline = time.monotonic() + (READ_WITHIN if step.read else 0)
        while True:
            result = session.run(command)
            shown = f"$ {command}\nexit {result.returncode}\n{result.stdout}{result.stderr}"
            ok = result.returncode == 0 and step.check(result.stdout, session.exported())
            if ok or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert ok, shown

    def delivered() -> bool:
        log = receiver_log.read_text()
        return all(line in log for line in DELIVERED)

    try:
        wait_until(delivered, READ_WITHIN, "webhook deliveries at the example receiver")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; it printed:\n{receiver_log.read_text()}") from None
