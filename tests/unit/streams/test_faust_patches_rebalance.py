"""The batched drain (``faust_patches``) around a rebalance: nothing fetched
before the flow stops, under an older generation, or before the seek that
ends the rebalance is handed over. Stand-in consumer, no broker."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP

from streams.speedups import faust_patches
from streams.speedups.fetched import Fetched
from tests.unit.streams.faust_drain_support import (
    GENERATION,
    IN,
    OTHER,
    DrainConsumer,
    Stopped,
    drain,
    record,
)


async def test_nothing_more_is_handed_over_once_a_rebalance_begins() -> None:
    """Flow stops while the first chunk is processed: Faust's getmany would
    stop yielding there, and so does the batched drain (the rest is fetched
    again after the seek to committed offsets)."""
    second = TP(IN, 1)
    fetch = {
        TP(IN, 0): [record(IN, 0, o) for o in range(7)],
        second: [record(IN, 1, o) for o in range(3)],
    }
    consumer = DrainConsumer([fetch])

    async def handler(owner: Any, batch: Fetched) -> None:
        consumer.diverted.append([(r.topic, r.partition, r.offset) for r in batch.records])
        consumer.flow_active = False  # a rebalance starts meanwhile

    faust_patches.install(frozenset({IN}), handler, 5)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=Stopped()))
    finally:
        faust_patches.uninstall()
    assert consumer.diverted == [[(IN, 0, o) for o in range(5)]]
    assert consumer._read_offset[second] is None  # never handed over, never marked read


async def test_a_new_generation_stops_per_message_delivery_too() -> None:
    fetch = {TP(OTHER, 0): [record(OTHER, 0, o) for o in range(4)]}
    consumer = DrainConsumer([fetch])
    delivered = consumer.called

    async def callback(message: Any) -> None:
        delivered.append((message.topic, message.offset))
        consumer.app.consumer_generation_id = GENERATION + 1  # the group moved on

    consumer.callback = callback  # type: ignore[method-assign]
    await drain(consumer, divert=True)
    assert delivered == [(OTHER, 0)]


async def test_nothing_fetched_before_the_seek_that_ends_a_rebalance_is_handed_over() -> None:
    """Faust resumes the partitions while a rebalance is under way (table
    recovery, then the streams) and seeks them to the committed offsets
    before it ends it. Diverted records fetched before the seek come from
    positions it moves (1903, where the commit is 1897): handed over, they
    were applied ahead of the inputs the seek delivered again, which settled
    at the later clock, or were dropped as read (lost). Records fetched after
    the seek but before the rebalance ends are left out too; the first fetch
    after it seeks again and only the next one is handed over. Other
    topics' records (the changelogs recovery reads) go all along."""
    usage, changelog = TP(IN, 1), TP(OTHER, 1)
    fetches = [
        {usage: [record(IN, 1, o) for o in range(1903, 1906)], changelog: [record(OTHER, 1, 4)]},
        {usage: [record(IN, 1, o) for o in range(1897, 1900)], changelog: [record(OTHER, 1, 5)]},
        {usage: [record(IN, 1, 1900)]},  # on from where the one left out ended
        {usage: [record(IN, 1, o) for o in range(1897, 1901)]},  # after the seek again
    ]
    consumer = DrainConsumer(fetches)
    consumer.app.rebalancing = True

    async def handler(owner: Any, batch: Fetched) -> None:
        consumer.diverted.append([(r.topic, r.partition, r.offset) for r in batch.records])

    async def recovered(message: Any) -> None:
        consumer.called.append((message.topic, message.offset))
        if message.offset == 4:  # the rebalance's seek
            await consumer.perform_seek()
        consumer.app.rebalancing = message.offset < 5  # and its end

    async def seek_to_committed() -> dict[TP, int]:
        return {usage: 1897}

    async def perform_seek() -> None:
        consumer.seeks += 1
        await faust_patches._perform_seek(consumer)

    consumer.callback = recovered  # type: ignore[method-assign]
    consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    consumer.seek_to_committed = seek_to_committed  # type: ignore[attr-defined]
    consumer._committed_offset = {}  # type: ignore[attr-defined]
    consumer.assignment = lambda: {usage}  # type: ignore[attr-defined]
    faust_patches.install(frozenset({IN}), handler)
    try:
        await faust_patches._drain_messages(consumer, SimpleNamespace(_stopped=Stopped()))
    finally:
        faust_patches.uninstall()
    assert consumer.called == [(OTHER, 4), (OTHER, 5)]
    assert consumer.diverted == [[(IN, 1, o) for o in range(1897, 1901)]]
    assert consumer.seeks == 2  # the rebalance's, and the one after it
    assert consumer._read_offset[usage] == 1900
