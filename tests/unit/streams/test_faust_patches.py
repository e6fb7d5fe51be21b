"""The patched consumer loop delivers every message in order, records read
offsets, skips already-read offsets, and uses Faust's ``wait_first`` only while
flow is suspended. Driven with a stand-in consumer: no broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from streams import faust_patches


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


# -- batch track / ack against Faust's own per-message methods ----------------


def _real_consumer(acking: set[str]) -> Any:
    """Faust's aiokafka Consumer, never started (no broker): only its ack bookkeeping."""
    import faust

    app = faust.App(f"patch-test-{len(acking)}", broker="kafka://127.0.0.1:1")

    async def callback(message: Any) -> None:
        return None

    consumer = app.transport.create_consumer(
        callback=callback, on_partitions_revoked=None, on_partitions_assigned=None
    )
    app.topics._acking_topics.update(acking)
    return consumer


def _messages() -> list[Any]:
    from faust.types import TP
    from faust.types.tuples import Message

    rows = [("in", 0, 5), ("in", 0, 6), ("in", 1, 2), ("in", 0, 6), ("other", 0, 1), ("in", 1, 0)]
    return [
        Message(topic, part, offset, 0.0, None, None, b"k", b"v", None, tp=TP(topic, part))
        for topic, part, offset in rows
    ]


def _bookkeeping(consumer: Any) -> tuple[Any, ...]:
    return (
        {tp: list(offsets) for tp, offsets in consumer._acked.items()},
        {tp: set(index) for tp, index in consumer._acked_index.items()},
        consumer._n_acked,
        sorted((m.topic, m.partition, m.offset) for m in consumer._unacked_messages),
    )


async def test_track_and_ack_batch_keep_fausts_exact_bookkeeping() -> None:
    from faust.types import TP

    one, batch = _real_consumer({"in"}), _real_consumer({"in"})
    for consumer in (one, batch):
        consumer._committed_offset[TP("in", 1)] = 1  # offset 0 there is already committed
    singles, batched = _messages(), _messages()
    for message in singles:
        one.track_message(message)
    faust_patches.track_batch(batch, batched)
    assert len(batch._unacked_messages) == len(one._unacked_messages) == 6

    newly = [one.ack(message) for message in singles]
    assert faust_patches.ack_batch(batch, batched) == sum(newly) == 3
    assert _bookkeeping(batch) == _bookkeeping(one)
    assert [m.acked for m in batched] == [m.acked for m in singles] == [True] * 6
    assert faust_patches.ack_batch(batch, batched) == 0  # acking twice changes nothing
    assert _bookkeeping(batch) == _bookkeeping(one)
