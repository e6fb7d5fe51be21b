"""After a rebalance Faust seeks the assigned partitions to their committed
offsets (``Consumer.perform_seek``), also whenever it drops records fetched
while the flow is stopped. aiokafka seeks only where an offset above 0 is
committed: a diverted partition with none must go back to its start, or the
records fetched and never handed over (and batches a drain let go) are read
by nobody (``streams.speedups.faust_patches._perform_seek``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.types import TP

from schemas.topics import INPUT_TOPICS, USAGE
from streams.speedups import faust_patches


class _Consumer:
    def __init__(self, committed: dict[TP, int | None]) -> None:
        self.committed = committed
        self._read_offset: dict[TP, Any] = {}
        self._committed_offset: dict[TP, Any] = {}
        self.seeks: dict[TP, int] = {}

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return self.committed

    def assignment(self) -> set[TP]:
        return set(self.committed)

    async def seek_wait(self, partitions: dict[TP, int]) -> None:
        self.seeks.update(partitions)


def test_diverted_partitions_with_nothing_committed_go_back_to_their_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faust_patches, "_divert_topics", frozenset(INPUT_TOPICS))
    never, zero, some = TP(USAGE, 0), TP(USAGE, 1), TP(USAGE, 2)
    changelog = TP("app-accounts-changelog", 0)
    consumer = _Consumer({never: None, zero: 0, some: 1200, changelog: None})
    asyncio.run(faust_patches._perform_seek(consumer))
    assert consumer.seeks == {never: 0, zero: 0}
    assert {tp: o for tp, o in consumer._committed_offset.items() if o} == {some: 1200}
