"""The bench's pure measuring parts: steady window, percentiles, output matching.

No broker: samples and records are built by hand (the consumed counter is read
from a stand-in metrics endpoint on loopback).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord

from schemas.topics import DEADLETTER, HEALTH, USAGE
from services.bench.latency import Matcher, by_second, percentile
from services.bench.produce import (
    MARKER_PREFIX,
    LiveFeed,
    bench_history,
    history_end,
    marker_value,
)
from services.bench.runner import (
    BUSY_SHARE,
    Sample,
    _looks_idle,
    consumed_counter,
    consumed_in,
    summarize,
)
from services.simulator.clock import parse_rfc3339
from services.stack.process import free_port


def make_samples(rows: list[tuple[float, int, float]]) -> list[Sample]:
    return [Sample(t, committed, cpu) for t, committed, cpu in rows]


def make_record(topic: str, key: bytes, value: bytes, timestamp: int) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topic, 0, 0, timestamp, 0, key, value, None, len(key), len(value), ())


def make_input(account: str, time: str, timestamp: int) -> ConsumerRecord[Any, Any]:
    value = orjson.dumps({"id": "x", "account_id": account, "type": "login", "time": time})
    return make_record(USAGE, account.encode(), value, timestamp)


def make_health(account: str, time: str, timestamp: int) -> ConsumerRecord[Any, Any]:
    value = orjson.dumps({"subject": account, "time": time, "type": "health"})
    return make_record(HEALTH, account.encode(), value, timestamp)


def test_steady_window_starts_at_first_commit_and_ends_at_last_busy_sample() -> None:
    # spawned at 0; commits from t=2; busy (1 CPU-s per s) until t=5, idle after.
    samples = make_samples(
        [
            (1, 0, 1.0),
            (2, 100, 2.0),
            (3, 200, 3.0),
            (4, 300, 4.0),
            (5, 350, 5.0),
            (6, 350, 5.01),
            (7, 400, 5.02),
        ]
    )
    result = summarize(samples, total=400, spawned=0.0, rss=50.0)
    assert result.window == "steady"
    assert result.events == 300
    assert result.seconds == pytest.approx(3.0)
    assert result.cpu_seconds == pytest.approx(3.0)
    assert result.startup_seconds == pytest.approx(2.0)


def test_a_worker_that_counts_opens_the_window_where_it_started_processing() -> None:
    # The fast path processed from t=2 but first committed at t=4, with 300 of
    # its 400 events processed by then (in-flight until their state is written).
    samples = [
        Sample(1, 0, 1.0, 0),
        Sample(2, 0, 2.0, 100),  # counter first above zero: the window opens here
        Sample(3, 0, 3.0),
        Sample(4, 100, 4.0),
        Sample(5, 100, 5.0),
        Sample(6, 100, 5.01),
        Sample(7, 400, 5.02),
    ]
    result = summarize(samples, total=400, spawned=0.0, rss=50.0)
    assert (result.window, result.events) == ("steady", 300)
    assert result.seconds == pytest.approx(3.0)
    assert result.cpu_seconds == pytest.approx(3.0)
    assert result.startup_seconds == pytest.approx(2.0)
    # Opened at the first commit instead, the same run would claim 300 events
    # for the 1 CPU-s after t=4: the bias this window removes.
    uncounted = [Sample(s.t, s.committed, s.cpu) for s in samples]
    assert summarize(uncounted, total=400, spawned=0.0, rss=50.0).cpu_seconds == pytest.approx(1.0)


def test_everything_done_by_the_first_commit_falls_back_to_the_whole_process() -> None:
    result = summarize(make_samples([(1, 0, 0.5), (3, 50, 2.0)]), 50, spawned=0.5, rss=1.0)
    assert (result.window, result.events, result.seconds) == ("whole-process", 50, 2.5)
    # A counting worker that had processed everything when its counter first showed.
    counted = [Sample(1, 0, 0.5, 50), Sample(2, 0, 1.0), Sample(3, 50, 2.0)]
    result = summarize(counted, 50, spawned=0.5, rss=1.0)
    assert (result.window, result.events, result.seconds) == ("whole-process", 50, 2.5)


def test_idle_after_the_input_ran_out_is_left_out_of_the_rate() -> None:
    # Processing from t=2 to t=6 (1 CPU-s per s), everything handed over by
    # t=6; then a second idle, a busy final write (t=8), two idle seconds and
    # the commit (a busy sample, t=11) that keeps the window open.
    samples = [
        Sample(1, 0, 1.0, 0),
        Sample(2, 0, 2.0, 100),  # the window opens
        Sample(3, 0, 3.0),
        Sample(4, 0, 4.0),
        Sample(5, 0, 5.0),
        Sample(6, 0, 6.0),  # busy: not asked
        Sample(7, 0, 6.01, 500),  # idle, all handed over - but unknown at t=6
        Sample(8, 0, 6.02, 500),  # idle, known at both ends: left out
        Sample(9, 0, 7.02),  # the final write (busy)
        Sample(10, 0, 7.03, 500),  # idle, unknown at t=9
        Sample(11, 0, 7.04, 500),  # idle, known at both ends: left out
        Sample(12, 500, 7.5),  # the commit: busy enough to close the window on
    ]
    result = summarize(samples, total=500, spawned=0.0, rss=50.0)
    assert (result.window, result.events) == ("steady", 400)
    assert result.seconds == pytest.approx(10.0)
    assert result.cpu_seconds == pytest.approx(5.5)
    assert result.tail_idle_seconds == pytest.approx(2.0)
    assert result.events_per_s == pytest.approx(400 / 8.0)
    assert result.events_per_s_whole_window == pytest.approx(400 / 10.0)
    assert result.to_json()["tail_idle_seconds"] == pytest.approx(2.0)


def test_idle_while_input_is_left_stays_in_the_rate() -> None:
    # A stall in the middle (t=4..6, the counter short of the total) is the
    # worker's own, not the end of the input: it is not left out.
    samples = [
        Sample(1, 0, 1.0, 0),
        Sample(2, 0, 2.0, 100),
        Sample(3, 0, 3.0),
        Sample(4, 0, 4.0, 300),
        Sample(5, 0, 4.01, 300),
        Sample(6, 0, 4.02, 300),
        Sample(7, 0, 5.02),
        Sample(8, 400, 6.02),
    ]
    result = summarize(samples, total=400, spawned=0.0, rss=50.0)
    assert result.tail_idle_seconds == 0.0
    assert result.events_per_s == result.events_per_s_whole_window == pytest.approx(300 / 6.0)


def test_the_counter_is_asked_only_when_the_worker_looks_idle() -> None:
    samples = [Sample(1, 0, 1.0, 100), Sample(2, 0, 2.0), Sample(3, 0, 3.0)]  # 1 CPU-s/s
    assert not _looks_idle(samples, 0, 4.0, 3.9)  # busy: no scrape
    assert not _looks_idle(samples, 0, 4.0, 3.01 + BUSY_SHARE)  # just above the threshold
    assert _looks_idle(samples, 0, 4.0, 3.05)
    assert not _looks_idle(samples, 2, 4.0, 3.0)  # no average yet (window just opened)


EXPOSITION = b"""# HELP healthscore_events_consumed_total Input messages consumed.
# TYPE healthscore_events_consumed_total counter
healthscore_events_consumed_total{topic="cs.usage.v1"} 1234.0
healthscore_events_consumed_created{topic="cs.usage.v1"} 1.7e+09
healthscore_events_consumed_total{topic="cs.tickets.v1"} 66.0
healthscore_events_rejected_total{topic="cs.usage.v1",reason="schema"} 5.0
"""


def test_consumed_counter_sums_the_topics_and_nothing_else() -> None:
    assert consumed_in(EXPOSITION) == 1300
    assert consumed_in(b"# no samples yet\n") == 0


def test_consumed_counter_leaves_out_inputs_alignment_holds() -> None:
    held = b"# TYPE healthscore_events_held gauge\nhealthscore_events_held 300.0\n"
    assert consumed_in(EXPOSITION + held) == 1000


@pytest.fixture
async def metrics_port() -> AsyncIterator[int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + EXPOSITION)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_consumed_counter_reads_the_workers_endpoint(metrics_port: int) -> None:
    assert await consumed_counter(metrics_port) == 1300


async def test_consumed_counter_is_none_while_nothing_listens() -> None:
    assert await consumed_counter(free_port()) is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 0.5, None), ([7], 0.99, 7), ([1, 2, 3, 4], 0.5, 2), (list(range(1, 101)), 0.99, 99)],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_latency_by_second_shows_which_seconds_make_the_tail() -> None:
    since = 10_000
    points = [(since + 100 + i, 10.0 + i) for i in range(100)]  # second 0: 10..109 ms
    points += [(since + 2_500, 5.0), (since + 2_600, 7.0)]  # second 2; second 1 has none
    assert by_second(points, since) == [[59.0, None, 5.0]]
    assert by_second(points, since, (0.5, 0.99)) == [[59.0, None, 5.0], [108.0, None, 7.0]]
    assert by_second([], since, (0.5, 0.99)) == [[], []]


def test_output_matches_latest_input_of_its_account_and_second() -> None:
    matcher = Matcher(since_ms=1000)
    matcher.add_input(make_input("a", "2026-11-23T10:00:00Z", 1000))
    matcher.add_input(make_input("a", "2026-11-23T10:00:00Z", 1200))
    matcher.add_input(make_input("b", "2026-11-23T10:00:00Z", 1100))
    matcher.add_output(make_health("a", "2026-11-23T10:00:00+00:00", 1250))
    matcher.add_output(make_health("b", "2026-11-23T10:00:01Z", 1300))  # no input that second
    matcher.add_output(make_health("a", "2026-11-23T10:00:00Z", 900))  # before the phase
    assert matcher.output_ms == [50]
    assert matcher.output_unmatched == 1


def test_dead_lettered_marker_matches_by_id() -> None:
    matcher = Matcher(since_ms=0)
    marker = marker_value("run1", 7)
    assert marker.startswith(MARKER_PREFIX)
    matcher.add_input(make_record(USAGE, b"a", marker, 5000))
    letter = orjson.dumps({"value_b64": base64.b64encode(marker).decode(), "reason": "x"})
    matcher.add_output(make_record(DEADLETTER, b"a", letter, 5420))
    assert matcher.marker_ms == [420]


@pytest.mark.parametrize(
    ("now", "end"),
    [
        ("2026-11-23T12:00:00Z", "2026-11-23T12:00:00Z"),
        ("2026-11-23T23:59:59Z", "2026-11-23T12:00:00Z"),
        ("2026-11-24T00:00:01Z", "2026-11-23T12:00:00Z"),
        ("2026-11-24T11:59:59Z", "2026-11-23T12:00:00Z"),
    ],
)
def test_history_ends_at_the_latest_noon(now: str, end: str) -> None:
    assert history_end(parse_rfc3339(now)) == parse_rfc3339(end)


def test_bench_history_is_the_last_events_and_live_time_continues_from_its_end() -> None:
    now = parse_rfc3339("2026-11-23T23:59:00Z")  # a minute before midnight
    sim, feed = bench_history(400, 20, 3, now)
    history = []
    while batch := feed.take(100, int(now)):
        history.extend(orjson.loads(v) for _, _, v in batch)
    assert len(history) == 400
    # The fed history reaches the end of the simulation, so no account's day
    # is left behind for the first live events to catch up.
    assert history[-1]["time"] >= "2026-11-23T11:00:00Z"
    assert max(e["time"] for e in history) < "2026-11-23T12:00:00Z"

    live = LiveFeed(sim, 10, 0, "t")
    first = {orjson.loads(v)["time"] for _, _, v in live.take(5, int(now))}
    later = {orjson.loads(v)["time"] for _, _, v in live.take(5, int(now) + 7)}
    assert first == {"2026-11-23T12:00:00Z"}
    assert later == {"2026-11-23T12:00:07Z"}
