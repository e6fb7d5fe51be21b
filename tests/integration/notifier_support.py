"""Real servers for the notifier's integration tests, all on 127.0.0.1 free ports:
an aiohttp webhook receiver that verifies Standard Webhooks signatures and an
aiosmtpd SMTP server. Redis is the session one from ``tests/conftest.py``; the
``redis`` fixture here is an async client to it, emptied before the test.
Every server is stopped by its fixture; nothing outlives the session.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller
from redis.asyncio import Redis
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifier.settings import NotifierSettings
from services.stack.process import free_port


@pytest_asyncio.fixture
async def redis(clean_redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(clean_redis_url)
    yield client
    await client.aclose()


@dataclass
class Received:
    webhook_id: str
    body: bytes
    headers: dict[str, str]
    verified: bool
    status: int


@dataclass
class Receiver:
    """An HTTP endpoint that records every request and answers ``status`` after
    ``delay`` seconds. Signatures are checked with the reference library."""

    secret: str
    status: int = 200
    delay: float = 0.0
    retry_after: str | None = None
    requests: list[Received] = field(default_factory=list)
    #: When set (and not yet released), requests wait on it: in-flight on purpose.
    hold: asyncio.Event | None = None
    held: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> Counter[str]:
        return Counter(r.webhook_id for r in self.requests if r.verified)

    def delivered(self) -> Counter[str]:
        """Verified requests answered 2xx, by webhook-id."""
        return Counter(r.webhook_id for r in self.requests if r.verified and r.status < 300)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        try:
            Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        status, webhook_id = self.status, headers.get("webhook-id", "")
        self.requests.append(Received(webhook_id, body, headers, verified, status))
        if self.hold is not None and not self.hold.is_set():
            self.held.append(webhook_id)
            await self.hold.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        extra = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.Response(status=status, headers=extra)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@dataclass
class MailSink:
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def fast_settings(redis_url: str, **overrides: Any) -> NotifierSettings:
    """Tiny timeouts and backoff so retries and reclaims happen within a test."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "workers": 1,
        "concurrency": 8,
        "timeout_seconds": 1.0,
        "reclaim_idle_ms": 2000,
        "reclaim_interval_seconds": 0.2,
        "scheduler_interval_seconds": 0.05,
        "subscription_refresh_seconds": 0.2,
        "retry_base_seconds": 0.02,
        "retry_cap_seconds": 0.2,
        "max_attempts": 1000,
        "stop_grace_seconds": 5.0,
        "metrics_port": 0,
    }
    values.update(overrides)
    return NotifierSettings(**values)


def settings_env(settings: NotifierSettings) -> dict[str, str]:
    """The same settings as environment variables, for a notifier subprocess."""
    env: dict[str, str] = {}
    for name, info in NotifierSettings.model_fields.items():
        value = getattr(settings, name)
        if value is None or not isinstance(info.validation_alias, str):
            continue
        env[info.validation_alias] = str(value).lower() if isinstance(value, bool) else str(value)
    return env
