"""The FastAPI application: ``create_app(settings)`` builds it, ``app`` serves it.

``app`` is created lazily on first access (``uvicorn services.api.main:app``),
so importing this module reads no environment and tests build their own app
from explicit settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from services.api.auth import Authenticator
from services.api.errors import install_error_handlers
from services.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from services.api.producer import KafkaEventProducer
from services.api.routes import api_router, health
from services.api.settings import ApiSettings
from services.api.webapp.routes import install_webapp
from services.readmodel.store import ReadModelStore
from services.readmodel.subscription_log import SecretSealer
from streams.observability.logging import (
    adopt_loggers,
    configure_logging,
    quiet_probe_access_lines,
)

log = logging.getLogger(__name__)

DESCRIPTION = """\
Real-time customer health scores, risk alerts and dunning.

Authenticate with `Authorization: Bearer <API key>`; keys carry the scopes
`read`, `ingest` and `admin` (admin implies the others). `/healthz`, `/readyz`,
`/metrics` and these docs are open. `POST /v1/sources/stripe` takes no key: Stripe's
`Stripe-Signature` is its credential. `POST /v1/sources/segment` also takes the key
as an HTTP Basic user name, for webhook senders that cannot set a bearer header.
The web app for customer-success teams is at `/app` (sign in there with a `read` key).
"""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    development = settings.env == "development"
    authenticator = Authenticator.from_config(settings.api_keys.get_secret_value(), development)
    if authenticator.open_access:
        log.warning("no API keys configured: every request is admin (development only)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The read timeout must outlast the SSE tail's blocking XREAD (redis-py 8
        # defaults it to 5 s, the same as the default block: every idle stream broke).
        redis = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=settings.sse_block_ms / 1000 + 5,
        )
        producer = KafkaEventProducer(settings.kafka_bootstrap_servers, settings)
        producer.start()
        app.state.redis = redis
        app.state.store = ReadModelStore(redis)
        app.state.producer = producer
        try:
            yield
        finally:
            await producer.stop()
            await redis.aclose()

    app = FastAPI(
        title="healthscore",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.sealer = SecretSealer.from_setting(settings.subscription_keys)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)  # outermost: sees every response
    app.include_router(api_router)
    install_webapp(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # `uvicorn services.api.main:app`: this is the process entry point
        # uvicorn configured its own loggers before importing us: take them
        # over so every line of the process is one JSON object.
        configure_logging()
        adopt_loggers("uvicorn", "uvicorn.error", "uvicorn.access")
        quiet_probe_access_lines(health.PROBE_PATHS)
        return create_app()
    raise AttributeError(name)
