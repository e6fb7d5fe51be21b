"""The supervisor with small Python children: all up, or all down, and no orphans.

Needs nothing but this Python; children are ``python -c`` scripts, so the
tests take about a second each.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

import pytest

from services.stack.supervisor import ProcessSpec, Supervisor

SLEEP = "import time; print('ready', flush=True); time.sleep(60)"
IGNORE_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def child(name: str, code: str, *, essential: bool = True) -> ProcessSpec:
    return ProcessSpec(name, [sys.executable, "-c", code], essential=essential)


async def signal_when(out: io.StringIO, text: str, count: int = 1) -> None:
    """SIGTERM ourselves once ``text`` appeared ``count`` times in the output."""
    while out.getvalue().count(text) < count:
        await asyncio.sleep(0.02)
    os.kill(os.getpid(), signal.SIGTERM)


async def test_essential_child_exit_stops_the_others() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [child("sleeper", SLEEP), child("crasher", "raise SystemExit(3)")], out=out
    )

    code = await supervisor.run()

    assert code == 1
    assert supervisor.exit_codes() == {"sleeper": -signal.SIGTERM, "crasher": 3}
    assert "crasher exited with code 3" in out.getvalue()


async def test_signal_stops_all_and_output_is_prefixed() -> None:
    out = io.StringIO()
    supervisor = Supervisor([child("one", SLEEP), child("two", SLEEP)], out=out)

    trigger = asyncio.create_task(signal_when(out, "| ready", count=2))
    code = await supervisor.run()
    await trigger

    assert code == 0
    assert supervisor.exit_codes() == {"one": -signal.SIGTERM, "two": -signal.SIGTERM}
    lines = out.getvalue().splitlines()
    assert any(line.startswith("one") and line.endswith("| ready") for line in lines)


async def test_child_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    out = io.StringIO()
    supervisor = Supervisor([child("stubborn", IGNORE_TERM)], out=out, stop_timeout=0.5)

    trigger = asyncio.create_task(signal_when(out, "| ready"))
    code = await supervisor.run()
    await trigger

    assert code == 0
    assert supervisor.exit_codes() == {"stubborn": -signal.SIGKILL}


async def test_non_essential_child_may_finish() -> None:
    out = io.StringIO()
    specs = [child("api", SLEEP), child("once", "print('done')", essential=False)]
    supervisor = Supervisor(specs, out=out)

    trigger = asyncio.create_task(signal_when(out, "once exited with code 0"))
    code = await supervisor.run()
    await trigger

    assert code == 0
    assert supervisor.exit_codes() == {"api": -signal.SIGTERM, "once": 0}


class DeadServer:
    name = "tansu"

    def poll(self) -> int | None:
        return 1


async def test_watched_server_death_stops_the_stack() -> None:
    out = io.StringIO()
    supervisor = Supervisor([child("worker", SLEEP)], watched=[DeadServer()], out=out)

    assert await supervisor.run() == 1
    assert "tansu exited with code 1" in out.getvalue()
    assert supervisor.exit_codes() == {"worker": -signal.SIGTERM}


async def test_missing_executable_fails_cleanly() -> None:
    out = io.StringIO()
    specs = [child("ok", SLEEP), ProcessSpec("ghost", ["/nonexistent/healthscore-ghost"])]
    supervisor = Supervisor(specs, out=out)

    assert await supervisor.run() == 1
    assert supervisor.exit_codes() == {"ok": -signal.SIGTERM}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_either_signal_requests_a_stop(sig: int) -> None:
    out = io.StringIO()
    supervisor = Supervisor([child("one", SLEEP)], out=out)

    async def send() -> None:
        while "| ready" not in out.getvalue():
            await asyncio.sleep(0.02)
        os.kill(os.getpid(), sig)

    trigger = asyncio.create_task(send())
    assert await supervisor.run() == 0
    await trigger
    assert f"{signal.Signals(sig).name}: stopping everything" in out.getvalue()
