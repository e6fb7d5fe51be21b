"""Waiting for something to become true, for every test layer: one place,
so each test says *what* it waits for and never hangs.

``wait_until`` polls a synchronous check (servers started in subprocesses,
HTTP endpoints); ``eventually`` awaits an async or sync predicate inside a
test's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import httpx


def wait_until(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    interval: float = 0.1,
    ignoring: tuple[type[BaseException], ...] = (httpx.TransportError,),
) -> Any:
    """Poll ``check`` until it returns something truthy (which is returned);
    ``ignoring``: errors that mean "not yet" (a server still starting)."""
    deadline = time.monotonic() + timeout
    while True:
        with suppress(*ignoring):
            result = check()
            if result:
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


async def eventually(
    predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 20.0, what: str = ""
) -> None:
    """Poll until ``predicate`` holds; fail (not hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if await value if isinstance(value, Awaitable) else value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")
