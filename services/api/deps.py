"""Request dependencies: what a route needs, resolved from the app's state.

Routes get the store, Redis, the producer and the caller through these, so
tests can replace any of them with ``app.dependency_overrides``. Only this
module and routes raise ``HTTPException`` (for auth); everything else raises
typed errors mapped in ``errors.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from services.api.auth import Authenticator, Principal, Scope
from services.api.producer import EventProducer
from services.api.settings import ApiSettings
from services.readmodel.store import ReadModelStore

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <secret>`.")


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def get_store(request: Request) -> ReadModelStore:
    store: ReadModelStore = request.app.state.store
    return store


def get_producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, who must hold ``scope`` (admin holds all)."""

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        principal = authenticator.authenticate(credentials.credentials if credentials else None)
        if principal is None:
            raise HTTPException(
                401, "missing or unknown API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not principal.has(scope):
            raise HTTPException(403, f"this API key lacks the {scope!r} scope")
        request.state.principal = principal.name  # the name only, for logs
        return principal

    return caller


ReadAccess = Annotated[Principal, Depends(require("read"))]
IngestAccess = Annotated[Principal, Depends(require("ingest"))]
AdminAccess = Annotated[Principal, Depends(require("admin"))]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
StoreDep = Annotated[ReadModelStore, Depends(get_store)]
ProducerDep = Annotated[EventProducer, Depends(get_producer)]
