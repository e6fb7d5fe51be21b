"""GET /v1/alerts/stream over a real socket: live delivery, resume, pings, filters.

Runs the app under uvicorn on a free loopback port in a thread and reads the
stream with httpx; every read has a deadline so a missing event fails the test
instead of hanging it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.factories import alert_event, seed
from tests.api.support import READ, FakeProducer, make_app, serve

pytestmark = pytest.mark.timeout(60)


@dataclass
class Frame:
    id: str | None = None
    event: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def base_url(redis_url: str) -> Iterator[str]:
    with serve(make_app(redis_url, FakeProducer())) as url:
        yield url


class SseReader:
    """Frames from an open event stream, each read bounded by ``deadline_s``."""

    def __init__(self, response: httpx.Response, deadline_s: float = 10.0) -> None:
        self.lines = response.iter_lines()
        self.deadline_s = deadline_s

    def next_frame(self) -> Frame:
        frame = Frame()
        started = time.monotonic()
        for line in self.lines:
            if time.monotonic() - started > self.deadline_s:
                break
            if line == "":
                return frame
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame.comments.append(value)
            elif name == "data":
                frame.data += value
            elif name in ("id", "event"):
                setattr(frame, name, value)
        raise AssertionError("stream ended or stalled")

    def next_alert(self) -> Frame:
        for _ in range(50):
            frame = self.next_frame()
            if frame.event == "alert":
                return frame
        raise AssertionError("no alert frame")


def open_stream(base_url: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={**READ, **headers}, timeout=httpx.Timeout(10.0))


def cursors(base_url: str) -> list[str]:
    body = httpx.get(f"{base_url}/v1/alerts", headers=READ).json()
    return [item["cursor"] for item in reversed(body["items"])]


def test_resume_after_last_event_id_then_live(base_url: str, redis_url: str) -> None:
    seed(redis_url, [alert_event(n=n) for n in range(3)])
    first, second, third = cursors(base_url)
    with (
        open_stream(base_url, **{"Last-Event-ID": first}) as client,
        client.stream("GET", "/v1/alerts/stream") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response)
        assert reader.next_frame().comments == ["connected"]
        replayed = [reader.next_alert(), reader.next_alert()]
        assert [f.id for f in replayed] == [second, third]
        assert '"alert:acme:health_below_threshold:1"' in replayed[0].data
        seed(redis_url, [alert_event(n=3)])
        live = reader.next_alert()
        assert live.id is not None and live.id > third
        assert '"alert:acme:health_below_threshold:3"' in live.data


def test_fresh_stream_starts_from_now(base_url: str, redis_url: str) -> None:
    seed(redis_url, [alert_event(n=10)])
    with open_stream(base_url) as client, client.stream("GET", "/v1/alerts/stream") as response:
        reader = SseReader(response)
        assert reader.next_frame().comments == ["connected"]
        seed(redis_url, [alert_event(n=11)])
        assert ":11" in reader.next_alert().data


def test_stream_filters_and_pings(base_url: str, redis_url: str) -> None:
    params = {"account_id": "beta", "type": "sudden_drop"}
    with (
        open_stream(base_url) as client,
        client.stream("GET", "/v1/alerts/stream", params=params) as response,
    ):
        reader = SseReader(response)
        assert reader.next_frame().comments == ["connected"]
        seed(
            redis_url,
            [
                alert_event("acme", "sudden_drop", n=20),
                alert_event("beta", "health_below_threshold", n=21),
                alert_event("beta", "sudden_drop", n=22),
            ],
        )
        assert '"alert:beta:sudden_drop:22"' in reader.next_alert().data
        # With nothing to send, keep-alive comments still arrive.
        assert any(c.startswith("ping") for c in reader.next_frame().comments)


@pytest.mark.parametrize("last_event_id", ["banana", "1-2-3"])
def test_bad_last_event_id_is_400(base_url: str, last_event_id: str) -> None:
    response = httpx.get(
        f"{base_url}/v1/alerts/stream", headers={**READ, "Last-Event-ID": last_event_id}
    )
    assert response.status_code == 400


def test_redis_read_timeout_outlasts_the_blocking_read(redis_url: str) -> None:
    """A quiet stream blocks in XREAD for ``sse_block_ms``; a client read timeout
    as short as that (redis-py 8's default of 5 s against the default 5 s block)
    broke every idle stream with a TimeoutError."""
    app = make_app(redis_url, FakeProducer(), HEALTHSCORE_SSE_BLOCK_MS=5000)
    with TestClient(app):
        timeout = app.state.redis.connection_pool.connection_kwargs["socket_timeout"]
        assert timeout > 5.0
