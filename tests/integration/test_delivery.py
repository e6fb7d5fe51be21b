"""Delivery end to end against real servers: Redis, an HTTP receiver, an SMTP
server (see ``notifier_support.py``). Deliveries are put on the queue the way
the dispatcher does; the dispatcher itself is covered by ``test_dispatch.py``.

Uses the session Redis (``redis_url`` in ``tests/conftest.py``). Backoff and
reclaim timeouts are shrunk so the whole module runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.notifier import app
from services.notifier.model import NewDelivery, Subscription, delivery_id_for
from services.notifier.queue import DEAD, GROUP, RETRY, STREAM, DeliveryQueue, done_key
from services.notifier.settings import NotifierSettings
from services.notifier.subscriptions import SUBSCRIPTIONS, SubscriptionCache
from services.stack.process import free_port
from tests.integration.notifier_support import (
    MailSink,
    Receiver,
    fast_settings,
    redis,
    settings_env,
    smtp_server,
)
from tests.polling import eventually
from tests.unit.notifier.factories import (
    SECRET,
    event_bytes,
    make_alert,
    make_dunning,
    make_subscription,
    subscription_json,
)

__all__ = ["redis", "smtp_server"]  # fixtures used below

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver(secret=SECRET)
    await rec.start()
    yield rec
    await rec.stop()


async def add_subscription(redis: Redis, sub: Subscription) -> Subscription:
    await redis.hset(SUBSCRIPTIONS, sub.id, subscription_json(sub))
    return sub


async def enqueue_alerts(
    redis: Redis, sub: Subscription, count: int, prefix: str = "a"
) -> list[str]:
    items = [
        NewDelivery(
            delivery_id_for(f"{prefix}-{i}", sub.id),
            sub.id,
            event_bytes(make_alert(f"{prefix}-{i}")),
            "io.healthscore.alert.x",
        )
        for i in range(count)
    ]
    await DeliveryQueue(redis).enqueue(items, now=0.0)
    return [item.delivery_id for item in items]


@contextlib.asynccontextmanager
async def running(settings: NotifierSettings) -> AsyncIterator[asyncio.Event]:
    """Delivery workers in this event loop, stopped (gracefully) on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        app.run(settings, dispatcher=False, workers=settings.workers, stop=stop)
    )
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def queue_empty(redis: Redis) -> bool:
    try:
        pending = await redis.xpending(STREAM, GROUP)
    except ResponseError:  # the group does not exist yet
        return False
    return (
        await redis.xlen(STREAM) == 0
        and await redis.zcard(RETRY) == 0
        and (pending["pending"] == 0)
    )


def delivered_total(outcome: str = "delivered") -> float:
    labels = {"channel": "webhook", "outcome": outcome}
    return REGISTRY.get_sample_value("healthscore_deliveries_total", labels) or 0.0


async def test_subscription_cache_refreshes_and_reads_through(redis: Redis) -> None:
    now = [0.0]
    cache = SubscriptionCache(redis, 2.0, lambda: now[0])
    assert await cache.all() == []
    sub = await add_subscription(redis, make_subscription())
    assert await cache.all() == []  # cached until the refresh interval passes
    now[0] = 2.5
    assert [s.id for s in await cache.all()] == [sub.id]
    late = await add_subscription(redis, make_subscription("sub_late"))
    assert await cache.get(late.id) == late  # a worker's miss reads through at once
    await redis.hdel(SUBSCRIPTIONS, sub.id)
    await redis.hset(SUBSCRIPTIONS, "sub_bad", b"{not json")
    now[0] = 5.0
    assert [s.id for s in await cache.all()] == [late.id]  # deleted gone, bad row ignored


async def test_webhook_is_signed_and_delivered_once(
    redis: Redis, redis_url: str, receiver: Receiver
) -> None:
    sub = await add_subscription(redis, make_subscription(target=receiver.url))
    [delivery_id] = await enqueue_alerts(redis, sub, 1)
    before = delivered_total()
    async with running(fast_settings(redis_url)):
        await eventually(lambda: len(receiver.requests) == 1, what="webhook")
        await eventually(lambda: queue_empty(redis), what="ack")
    assert delivered_total() == before + 1
    [request] = receiver.requests
    assert request.verified and request.webhook_id == delivery_id
    assert orjson.loads(request.body)["id"] == "a-0"
    assert await redis.exists(done_key(delivery_id))
    # A Kafka redelivery of the same event is not enqueued again.
    assert await DeliveryQueue(redis).enqueue(
        [NewDelivery(delivery_id, sub.id, request.body, "t")], now=0.0
    ) == [False]


async def test_done_marker_skips_a_redelivered_entry(
    redis: Redis, redis_url: str, receiver: Receiver
) -> None:
    sub = await add_subscription(redis, make_subscription(target=receiver.url))
    delivery_id = delivery_id_for("a-0", sub.id)
    await redis.set(done_key(delivery_id), b"1")
    await redis.xadd(
        STREAM,
        {
            "delivery_id": delivery_id,
            "subscription_id": sub.id,
            "event": event_bytes(make_alert("a-0")),
            "attempt": "0",
            "enqueued_at": "0",
        },
    )
    async with running(fast_settings(redis_url)):
        await eventually(lambda: queue_empty(redis), what="skip and ack")
    assert receiver.requests == []


async def test_email_arrives_with_text_and_html(
    redis: Redis, redis_url: str, smtp_server: tuple[MailSink, int]
) -> None:
    sink, port = smtp_server
    alert_sub = await add_subscription(
        redis, make_subscription("sub_mail", channel="email", target="csm@example.com")
    )
    await enqueue_alerts(redis, alert_sub, 1)
    await DeliveryQueue(redis).enqueue(
        [
            NewDelivery(
                delivery_id_for("dun-1", alert_sub.id),
                alert_sub.id,
                event_bytes(make_dunning()),
                "t",
            )
        ],
        now=0.0,
    )
    settings = fast_settings(
        redis_url,
        smtp_port=port,
        smtp_host="127.0.0.1",
        smtp_from="healthscore@example.com",
    )
    async with running(settings):
        await eventually(lambda: len(sink.messages) == 2, what="two mails")
    by_subject = {m["Subject"]: m for m in sink.messages}
    alert_mail = by_subject["Acme is at risk (score 54)"]
    dunning_mail = by_subject["Payment failed for Acme: 499.00 USD"]
    for mail in (alert_mail, dunning_mail):
        assert mail.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = alert_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "No logins in 14 days" in text and "csm@example.com" in text
    dunning_text = dunning_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://billing.example.com/update?token=abc" in dunning_text
    assert sink.recipients == [["csm@example.com"], ["csm@example.com"]]


async def test_slack_message_is_readable(redis: Redis, redis_url: str, receiver: Receiver) -> None:
    sub = await add_subscription(
        redis, make_subscription("sub_slack", channel="slack", target=receiver.url)
    )
    await enqueue_alerts(redis, sub, 1)
    async with running(fast_settings(redis_url)):
        await eventually(lambda: len(receiver.requests) == 1, what="slack post")
    payload = orjson.loads(receiver.requests[0].body)
    assert payload["text"] == "Acme is at risk (score 54)"
    assert "No logins in 14 days" in orjson.dumps(payload["blocks"]).decode()


async def test_receiver_outage_then_everything_delivered(
    redis: Redis, redis_url: str, receiver: Receiver
) -> None:
    sub = await add_subscription(redis, make_subscription(target=receiver.url))
    receiver.status, receiver.retry_after = 503, "0"
    expected = await enqueue_alerts(redis, sub, 20)
    async with running(fast_settings(redis_url)):
        await eventually(lambda: len(receiver.requests) >= 40, what="retries while 503")
        await receiver.stop()  # now the port is closed: connection refused
        await eventually(lambda: redis.zcard(RETRY), what="retries while down")  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        receiver.status, receiver.retry_after = 200, None
        await receiver.start()
        await eventually(lambda: set(receiver.delivered()) == set(expected), what="all delivered")
        await eventually(lambda: queue_empty(redis), what="queue drained")
    assert all(n == 1 for n in receiver.delivered().values())
    assert await redis.hlen(DEAD) == 0


async def test_dead_letter_after_last_try_then_redrive(
    redis: Redis, redis_url: str, receiver: Receiver
) -> None:
    sub = await add_subscription(redis, make_subscription(target=receiver.url))
    gone = await add_subscription(redis, make_subscription("sub_gone", target=receiver.url))
    receiver.status = 500
    [delivery_id] = await enqueue_alerts(redis, sub, 1)
    dead_before = delivered_total("dead_lettered")
    async with running(fast_settings(redis_url, max_attempts=3)):
        await eventually(lambda: redis.hexists(DEAD, delivery_id), what="dead letter")  # type: ignore[arg-type]
        dead = orjson.loads(await redis.hget(DEAD, delivery_id))  # type: ignore[arg-type]
        assert (dead["attempts"], dead["last_error"], dead["channel"]) == (3, "HTTP 500", "webhook")
        assert len(receiver.requests) == 3
        assert delivered_total("dead_lettered") == dead_before + 1
        # A permanent failure is dead at once.
        receiver.status = 410
        [gone_id] = await enqueue_alerts(redis, gone, 1, prefix="g")
        await eventually(lambda: redis.hexists(DEAD, gone_id), what="permanent")  # type: ignore[arg-type]
        assert len(receiver.requests) == 4
        # Re-drive as the API does it (REDIS_LAYOUT.md): HDEL + XADD with attempt 0.
        receiver.status = 200
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hdel(DEAD, delivery_id)
            pipe.xadd(
                STREAM,
                {
                    "delivery_id": delivery_id,
                    "subscription_id": sub.id,
                    "event": dead["event"],
                    "attempt": "0",
                    "enqueued_at": "0",
                },
            )
            await pipe.execute()
        await eventually(lambda: receiver.delivered()[delivery_id] == 1, what="re-driven")
        await eventually(lambda: queue_empty(redis), what="drained")
    assert await redis.hlen(DEAD) == 1  # only the permanent one is left


def start_worker_process(settings: NotifierSettings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings), "HEALTHSCORE_LOG_LEVEL": "WARNING"}
    with log.open("ab") as sink:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "services.notifier", "--workers-only"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=sink,
        )


async def wait_process(proc: subprocess.Popen[bytes], timeout: float) -> int:
    await eventually(lambda: proc.poll() is not None, timeout, what="process exit")
    return proc.returncode


@pytest.mark.slow
async def test_kill_9_mid_batch_loses_nothing(
    redis: Redis, redis_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    """SIGKILL a worker process with deliveries in flight; a second one reclaims
    them. Every delivery reaches the receiver. The ones in flight at the kill
    (the receiver had them, the sender never got the answer) arrive a second time
    with the same webhook-id, which is what receivers de-duplicate on; no other
    delivery is sent twice."""
    sub = await add_subscription(redis, make_subscription(target=receiver.url))
    receiver.delay = 0.02
    expected = set(await enqueue_alerts(redis, sub, 200))
    settings = fast_settings(redis_url, concurrency=8, reclaim_idle_ms=1600)
    first = start_worker_process(settings, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        await eventually(lambda: len(receiver.delivered()) >= 40, 30, what="first deliveries")
        receiver.hold = asyncio.Event()  # from now on requests hang: a batch in flight
        await eventually(lambda: len(receiver.held) == settings.concurrency, 10, what="held")
        first.send_signal(signal.SIGKILL)
        await wait_process(first, 10)
        receiver.hold.set()
        in_flight = set(receiver.held)
        assert len(receiver.delivered()) < len(expected)  # really killed mid-batch
        second = start_worker_process(settings, tmp_path / "second.log")
        await eventually(lambda: set(receiver.delivered()) == expected, 60, what="all delivered")
        await eventually(lambda: queue_empty(redis), 10, what="drained")
        second.send_signal(signal.SIGTERM)
        assert await wait_process(second, 15) == 0  # graceful stop
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    counts = receiver.delivered()
    twice = {k for k, n in counts.items() if n > 1}
    print(f"kill -9: {len(in_flight)} in flight at the kill, {len(twice)} seen twice")
    assert set(counts) == expected
    assert twice <= in_flight
    assert max(counts.values()) <= 2


async def test_failures_never_reveal_the_slack_token(
    redis: Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = f"http://127.0.0.1:{free_port()}/services/T000/B000/SECRETTOKEN"  # nobody listens
    sub = await add_subscription(redis, make_subscription("sub_s", channel="slack", target=target))
    [delivery_id] = await enqueue_alerts(redis, sub, 1)
    caplog.set_level(logging.DEBUG)
    async with running(fast_settings(redis_url, max_attempts=2)):
        await eventually(lambda: redis.hexists(DEAD, delivery_id), what="dead")  # type: ignore[arg-type]
    dead = await redis.hget(DEAD, delivery_id)
    assert b"ConnectError" in dead  # type: ignore[operator]
    assert "SECRETTOKEN" not in caplog.text and b"SECRETTOKEN" not in dead  # type: ignore[operator]
    assert "http://127.0.0.1" in caplog.text
