"""FastIngest and deferred midnight wakes: an event past midnight wakes its own
account first, the other accounts wake a slice after each batch or in the idle
timer's slices, and a batch that waited long in Kafka gives them one step.
Same stand-ins as ``test_fastpath`` (``fastpath_support``)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from streams.processing import pipeline as pipeline_module
from streams.speedups import fastpath
from tests.unit.streams.fastpath_support import (
    Consumer,
    Sink,
    Store,
    batches,
    fetched_of,
    make,
    rigged,
    spy_budgets,
)


def test_wakes_past_midnight_are_fired_after_the_batch_a_slice_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline_module, "MIN_WAKE_SLICE_SECONDS", 0.0)
    store, acked = Store(), []
    ingest, pipeline, clock = make(store, acked, spread_wakes=True)
    consumer = Consumer()
    feed = batches(400, 200, past_midnight=1)
    sink: Sink = pipeline.sink  # type: ignore[assignment]
    late = feed[-1][0].key

    async def run() -> None:
        for batch in feed[:-1]:
            await ingest.on_batch(consumer, fetched_of(batch))
        assert not pipeline.overdue
        before = len(sink.records)
        await ingest.on_batch(consumer, fetched_of(feed[-1]))  # one event, an hour past midnight
        # The batch's own outputs, then one step of the other accounts' wakes.
        woken = {key for topic, key, *_ in sink.records[before:] if topic != "changelog"}
        assert late in woken and 1 < len(woken) <= 1 + 64
        assert pipeline.overdue, "the rest of the midnight waits"
        clock.now += 2.5
        await ingest.flush()  # idle: every wake fired, then everything written and acked

    asyncio.run(run())
    assert not pipeline.overdue and not pipeline.persisting
    assert len(acked) == sum(len(b) for b in feed)
    engine_accounts = {a for e in pipeline.runtime.engines.values() for a in e.accounts}
    assert set(store.state) == engine_accounts


def test_idle_wakes_give_way_to_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "MIN_WAKE_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(fastpath, "IDLE_SLICE_SECONDS", 0.0)
    rig = rigged(600, 300, past_midnight=20, spread_wakes=True)
    pipeline = rig.pipeline

    async def run() -> None:
        await rig.all_but_the_last()
        await rig.batch(-1)  # every partition past midnight
        rig.clock.now += 2.0  # idle
        flush = asyncio.create_task(rig.ingest.flush())
        await asyncio.sleep(0)  # let it fire a slice
        assert pipeline.overdue, "the idle timer fired every wake at once"
        idle_slices = spy_budgets(monkeypatch, pipeline, "catch_up", fastpath.IDLE_SLICE_SECONDS)
        await rig.ingest.on_batch(
            rig.consumer, fetched_of(rig.feed[1][:1])
        )  # the feed is back (a replay)
        await flush
        assert idle_slices and not any(idle_slices), "the idle timer went on after a batch"

    asyncio.run(run())


@pytest.mark.parametrize("waited_s", [0.0, 0.15, 5.0])
def test_a_batch_that_waited_long_gives_the_wakes_one_step(
    monkeypatch: pytest.MonkeyPatch, waited_s: float
) -> None:
    """Behind (inputs appended over ``BEHIND_SECONDS`` ago), events go first."""
    monkeypatch.setattr(pipeline_module, "MIN_WAKE_SLICE_SECONDS", 60.0)  # else: all of them
    rig = rigged(600, 300, past_midnight=20, spread_wakes=True)

    async def run() -> None:
        await rig.all_but_the_last()
        appended = time.time() - waited_s
        await rig.ingest.on_batch(
            rig.consumer,
            fetched_of([dataclasses.replace(m, timestamp=appended * 1000) for m in rig.feed[-1]]),
        )

    asyncio.run(run())
    assert rig.pipeline.overdue == (waited_s > pipeline_module.BEHIND_SECONDS)
