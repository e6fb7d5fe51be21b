"""Keys, the fake producer and the app factory shared by the API tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from services.api.deps import get_producer
from services.api.main import create_app
from services.api.producer import Outgoing
from services.api.settings import ApiSettings
from services.stack.process import free_port

READ_KEY = "reader-secret-0123456789"
INGEST_KEY = "ingester-secret-0123456789"
ADMIN_KEY = "admin-secret-0123456789"
API_KEYS = f"reader:{READ_KEY}:read,ingester:{INGEST_KEY}:ingest,admin:{ADMIN_KEY}:admin"
#: A Fernet key for tests only: seals webhook secrets on cs.subscriptions.v1.
SUBSCRIPTION_KEY = "fsf7I3u6GFbMH6vlOYPHC6NkE0qpiwgOvg1Fg5gxNG0="


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


READ = auth(READ_KEY)
INGEST = auth(INGEST_KEY)
ADMIN = auth(ADMIN_KEY)


class FakeProducer:
    """Records what the route would have produced; can pretend the broker is down."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.failure: Exception | None = None
        self.unready: str | None = None

    async def send_all(self, messages: Sequence[Outgoing]) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.extend(messages)

    async def check(self, within_s: float) -> str | None:
        return self.unready


def make_settings(redis_url: str, **overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # nothing listens: the fake is used
        "HEALTHSCORE_API_KEYS": API_KEYS,
        "HEALTHSCORE_SUBSCRIPTION_KEYS": SUBSCRIPTION_KEY,
        "HEALTHSCORE_ENV": "test",
        "HEALTHSCORE_SSE_BLOCK_MS": 100,
        "HEALTHSCORE_SSE_PING_SECONDS": 0.5,
        **overrides,
    }
    return ApiSettings(**values)  # type: ignore[arg-type]


def make_app(redis_url: str, producer: FakeProducer, **overrides: object) -> FastAPI:
    app = create_app(make_settings(redis_url, **overrides))
    app.dependency_overrides[get_producer] = lambda: producer
    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
