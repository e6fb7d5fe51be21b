"""``streams.worker.app.App``: the fast path's drain runs before Faust waits for
acks, at a rebalance and at shutdown (``App._consumer_wait_empty``), so the
wait finds every batch acked instead of waiting for the idle timer, which
at shutdown took no persist during that wait. No broker: the app is never started."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streams.worker.app import App


class _Consumer:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def wait_empty(self) -> None:
        self.calls.append("wait_empty")


def test_hooks_run_before_faust_waits_for_acks(tmp_path: Path) -> None:
    app = App("hooks", broker="kafka://127.0.0.1:1", datadir=str(tmp_path), autodiscover=False)
    calls: list[str] = []

    async def drain() -> None:
        calls.append("drain")

    app.before_wait_empty.append(drain)
    asyncio.run(app._consumer_wait_empty(_Consumer(calls), app.log))
    assert calls == ["drain", "wait_empty"]
