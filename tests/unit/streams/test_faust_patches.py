"""The patched consumer loop delivers every message in order, records read
offsets, skips already-read offsets, and uses Faust's ``wait_first`` only while
flow is suspended. Driven with a stand-in consumer: no broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from streams.speedups import faust_patches


class _Event:
    def __init__(self, value: bool = False) -> None:
        self.value = value

    def is_set(self) -> bool:
        return self.value

    async def wait(self) -> None:
        await asyncio.sleep(3600)


class _FakeConsumer:
    consumer_stopped_errors = (ConnectionError,)

    def __init__(self, batches: list[list[tuple[str, int]]], suspended: bool) -> None:
        self.batches = batches
        self.delivered: list[tuple[str, int]] = []
        self.waited = 0
        self._stopped = _Event()
        self.suspend_flow = _Event(suspended)
        self._read_offset: dict[str, int | None] = {"tp": None}
        self.diag = SimpleNamespace(set_flag=lambda flag: None, unset_flag=lambda flag: None)
        self._commit_every = None
        self._n_acked = 0
        self.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda topic: True))
        self.should_stop = False
        self.log = SimpleNamespace(info=print, exception=print)
        self.transport = SimpleNamespace(app=SimpleNamespace(should_stop=True))

    async def callback(self, message: Any) -> None:
        self.delivered.append((message.topic, message.offset))

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[str, Any]]:
        if not self.batches:
            self._stopped.value = True
            return
        for topic, offset in self.batches.pop(0):
            yield "tp", SimpleNamespace(topic=topic, offset=offset)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    async def wait_first(self, *coros: Any) -> None:
        self.waited += 1
        first = coros[0]
        for other in coros[1:]:
            other.close()
        await first

    async def _add_gap(self, tp: str, start: int, end: int) -> None:
        return None


@pytest.mark.parametrize("suspended", [False, True])
async def test_every_message_delivered_once_in_order(suspended: bool) -> None:
    consumer = _FakeConsumer([[("t", 0), ("t", 1)], [("t", 0), ("t", 2)]], suspended)
    fetcher = SimpleNamespace(_stopped=_Event())
    await faust_patches._drain_messages(consumer, fetcher)
    assert consumer.delivered == [("t", 0), ("t", 1), ("t", 2)]  # the stale offset 0 is skipped
    assert consumer._read_offset["tp"] == 2
    assert consumer.waited == (3 if suspended else 0)


def test_install_is_reversible_and_version_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    faust_patches.install()
    assert faust_patches.is_installed()
    faust_patches.uninstall()
    assert not faust_patches.is_installed()
    monkeypatch.setattr(faust_patches.faust, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match="targets faust-streaming"):
        faust_patches.install()
