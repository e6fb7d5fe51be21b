"""BatchingSink.delivered: has everything up to a given shipment been delivered?

A stand-in producer whose deliveries the test completes by hand.
"""

from __future__ import annotations

import asyncio
from typing import Any

from streams.speedups.batching import BatchingSink, fail_flush_on_lost_sends


class Builder:
    def __init__(self) -> None:
        self.records: list[bytes] = []

    def append(self, *, timestamp: Any, key: bytes, value: bytes, headers: Any = ()) -> object:
        self.records.append(value)
        return object()

    def close(self) -> None:
        return None


class Producer:
    def __init__(self) -> None:
        self.deliveries: list[asyncio.Future[None]] = []

    async def flush(self) -> None:
        return None

    def create_batch(self) -> Builder:
        return Builder()

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    async def send_batch(self, builder: Builder, topic: str, *, partition: int) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.deliveries.append(future)
        return future


def test_delivered_looks_only_at_shipments_up_to_the_mark() -> None:
    async def run() -> None:
        producer = Producer()
        sink = BatchingSink(producer, linger_ms=5)  # type: ignore[arg-type]
        assert sink.delivered(sink.shipped)  # nothing shipped yet
        await sink.send([("state", b"a", b"1"), ("state", b"b", b"2")])
        await sink.ship_all()
        mark = sink.shipped
        assert mark == len(producer.deliveries) >= 1
        await sink.send([("out", b"a", b"x")])
        await sink.ship_all()
        assert sink.shipped > mark
        assert not sink.delivered(mark)
        for future in producer.deliveries[:mark]:
            future.set_result(None)
        assert sink.delivered(mark)  # later shipments still pending: not asked
        assert not sink.delivered(sink.shipped)
        for future in producer.deliveries[mark:]:
            future.set_result(None)
        assert sink.delivered(sink.shipped)
        await sink.flush()

    asyncio.run(run())


def test_a_failed_delivery_fails_the_flush_before_a_commit() -> None:
    """Faust flushes its producer before committing offsets; aiokafka's flush
    does not raise for a batch that failed, so the commit went over outputs
    that never reached Kafka. With the guard, the flush raises instead."""

    class Service:  # Faust's producer service: only its flush matters here
        async def flush(self) -> None:
            return None

    async def run() -> None:
        producer, service = Producer(), Service()
        sink = BatchingSink(producer, linger_ms=5)  # type: ignore[arg-type]
        fail_flush_on_lost_sends(service, sink)
        await sink.send([("out", b"a", b"x")])
        await sink.ship_all()
        producer.deliveries[0].set_exception(RuntimeError("message too large"))
        try:
            await service.flush()
        except RuntimeError as exc:
            assert "too large" in str(exc)
        else:
            raise AssertionError("the flush before the commit did not fail")
        assert not _delivered_ok(sink)

    def _delivered_ok(sink: BatchingSink) -> bool:
        try:
            return sink.delivered(sink.shipped)
        except RuntimeError:
            return False

    asyncio.run(run())


def test_a_failure_already_raised_still_fails_every_later_flush() -> None:
    """The failed delivery surfaces first where the worker sends (its batch
    stops the consumer); Faust's stop path then flushes and commits. That
    commit must fail too: the input behind the lost record was acked when its
    outputs were handed over, so a commit would move past it for good."""

    class Service:
        async def flush(self) -> None:
            return None

    async def run() -> None:
        producer, service = Producer(), Service()
        sink = BatchingSink(producer, linger_ms=5, max_in_flight_batches=1)  # type: ignore[arg-type]
        fail_flush_on_lost_sends(service, sink)
        await sink.send([("out", b"a", b"x")])
        await sink.ship_all()
        producer.deliveries[0].set_exception(RuntimeError("message too large"))
        await sink.send([("out", b"b", b"y")])
        try:
            await sink.ship_all()  # the failure is taken off the window here
        except RuntimeError:
            pass
        else:
            raise AssertionError("the send after the lost delivery did not fail")
        for future in producer.deliveries[1:]:
            future.set_result(None)
        for attempt in range(2):
            try:
                await service.flush()
            except RuntimeError as exc:
                assert "too large" in str(exc)
            else:
                raise AssertionError(f"flush {attempt + 1} after the failure went ahead")

    asyncio.run(run())
