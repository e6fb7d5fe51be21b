"""A real webhook receiver on 127.0.0.1 that checks Standard Webhooks signatures.

It is what a customer's endpoint does: verify ``webhook-signature`` over id,
timestamp and body with the subscription's secret (``standardwebhooks``, the
reference library, not our own signing code), and answer 204. Every request is
recorded with its arrival time, so a test can count deliveries and measure
latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.stack.process import free_port


@dataclass(frozen=True, slots=True)
class Received:
    at: float  # time.time() on arrival
    headers: dict[str, str]
    body: bytes
    verified: bool

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class WebhookReceiver:
    url: str
    secret: str | None = None  # set once the subscription (and its secret) exists
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = False
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        self.received.append(Received(time.time(), headers, body, verified))
        self.arrived.set()
        return web.Response(status=204 if verified else 401)

    async def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Until at least ``count`` requests arrived (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return list(self.received)


@asynccontextmanager
async def webhook_receiver(path: str = "/hook") -> AsyncIterator[WebhookReceiver]:
    port = free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}{path}")
    app = web.Application()
    app.router.add_post(path, receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield receiver
    finally:
        await runner.cleanup()
