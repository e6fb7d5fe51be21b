"""Token-bucket pacing (pure, on a fake clock) and the send loop with an in-memory sink."""

from __future__ import annotations

import asyncio

import pytest

from services.simulator import EventFeed
from services.simulator.pacing import BURST_SECONDS, TokenBucket, pump

from .conftest import END, make_simulation


def granted_over(rate: float, seconds: float, step: float) -> int:
    """Events a bucket grants a greedy caller polling every ``step`` seconds (the
    pump polls at least once per burst window: it sleeps only until the next token)."""
    bucket = TokenBucket(rate, max(1.0, rate * BURST_SECONDS))
    total, now = 0, 0.0
    while now <= seconds:
        total += bucket.take(10_000, now)
        now += step
    return total


@pytest.mark.parametrize(
    "rate, step",
    # At 3/s the burst is one token: a poll that finds 1.05 must keep the 0.05
    # (capping the total lost it, and granted 3/s polled every 50 ms as 2.86/s).
    [
        (50_000, 0.001),
        (50_000, 0.0137),
        (500, 0.001),
        (500, 0.2),
        (3, 0.05),
        (3, 0.34),
        (7, 0.03),
    ],
)
def test_bucket_grants_the_rate_within_one_burst(rate, step):
    seconds = 10.0
    burst = max(1.0, rate * BURST_SECONDS)
    assert abs(granted_over(rate, seconds, step) - rate * seconds) <= burst + rate * step


def test_bucket_does_not_bank_tokens_while_idle():
    bucket = TokenBucket(1000, 20)
    bucket.take(20, 0.0)
    assert bucket.take(10_000, 60.0) == 20


def test_bucket_starts_empty_so_a_paced_run_starts_at_its_rate():
    """No head start: a full bucket let 250 ms worth out at once when a run began,
    the spike the bench's latency phase then measured as p99."""
    rate = 5000
    bucket = TokenBucket(rate, rate * BURST_SECONDS)
    assert bucket.take(10_000, 0.0) == 0
    assert bucket.take(10_000, 0.01) == 50
    granted = 50 + sum(bucket.take(10_000, 0.01 + i * 0.002) for i in range(1, 46))
    assert granted == pytest.approx(rate * 0.1, abs=1)  # 100 ms in, 100 ms worth


def test_bucket_says_how_long_until_the_next_token():
    bucket = TokenBucket(100, 1)
    assert bucket.take(5, 0.0) == 0
    assert bucket.delay() == pytest.approx(0.01)
    assert bucket.take(5, 0.01) == 1
    assert bucket.delay() == pytest.approx(0.01)
    assert bucket.delay(5) == pytest.approx(0.01)  # capped at the burst


@pytest.mark.parametrize("rate, burst", [(0, 5), (-1, 5), (10, 0.5)])
def test_bucket_rejects_nonsense(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


class ListSink:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def send(self, events):
        self.values.extend(value for _, _, value in events)


def test_pump_moves_the_whole_history_in_order():
    sink = ListSink()
    feed = EventFeed(make_simulation(accounts=8, days=3))
    sent = asyncio.run(pump(feed, sink, rate=0, stop=asyncio.Event()))
    expected = [v for _, _, v in make_simulation(accounts=8, days=3).events()]
    assert sent == len(expected) and sink.values == expected


def test_pump_stops_when_asked():
    sink = ListSink()
    feed = EventFeed(make_simulation(accounts=8, days=3), follow=True)
    stop = asyncio.Event()

    async def run() -> int:
        asyncio.get_running_loop().call_soon(stop.set)
        return await pump(feed, sink, rate=0, stop=stop, wall_clock=lambda: END + 1)

    assert asyncio.run(run()) == len(sink.values) <= 2_000


def test_pump_reports_progress():
    reports = []
    ticks = iter(range(0, 1_000_000, 2))  # a clock that advances 2 s per reading
    sink = ListSink()
    feed = EventFeed(make_simulation(accounts=8, days=3))
    asyncio.run(
        pump(
            feed,
            sink,
            rate=0,
            stop=asyncio.Event(),
            progress=reports.append,
            clock=lambda: float(next(ticks)),
        )
    )
    assert reports and reports[-1].sent <= len(sink.values)
    assert all(r.rate > 0 and not r.live for r in reports)
