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
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from redis.asyncio import Redis

from services.api.auth import Authenticator, Principal, Scope
from services.api.producer import EventProducer
from services.api.settings import ApiSettings
from services.readmodel.store import ReadModelStore
from services.readmodel.subscription_log import SecretSealer

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


def get_sealer(request: Request) -> SecretSealer | None:
    sealer: SecretSealer | None = request.app.state.sealer
    return sealer


def get_producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


class _LenientBasic(HTTPBasic):
    """HTTP Basic where malformed credentials count as none, so the caller gets
    the same 401 as for a missing key instead of a second, different one."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)
        except HTTPException:
            return None


_basic = _LenientBasic(
    auto_error=False,
    scheme_name="HTTPBasic",
    description="An API key as the user name (password empty), for senders that "
    "only do Basic. Accepted on `POST /v1/sources/segment` only.",
)


def _authorize(request: Request, token: str | None, scope: Scope) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.authenticate(token)
    if principal is None:
        raise HTTPException(
            401, "missing or unknown API key", headers={"WWW-Authenticate": "Bearer"}
        )
    if not principal.has(scope):
        raise HTTPException(403, f"this API key lacks the {scope!r} scope")
    request.state.principal = principal.name  # the name only, for logs
    return principal


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, who must hold ``scope`` (admin holds all)."""

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        return _authorize(request, credentials.credentials if credentials else None, scope)

    return caller


def require_bearer_or_basic(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """``require`` that also takes the key as an HTTP Basic user name (or
    password), for webhook senders that cannot set a bearer header."""

    async def caller(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> Principal:
        token = bearer.credentials if bearer else None
        if basic is not None:
            token = basic.username or basic.password
        return _authorize(request, token, scope)

    return caller


ReadAccess = Annotated[Principal, Depends(require("read"))]
IngestAccess = Annotated[Principal, Depends(require("ingest"))]
IngestAccessBasic = Annotated[Principal, Depends(require_bearer_or_basic("ingest"))]
AdminAccess = Annotated[Principal, Depends(require("admin"))]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
StoreDep = Annotated[ReadModelStore, Depends(get_store)]
ProducerDep = Annotated[EventProducer, Depends(get_producer)]
SealerDep = Annotated[SecretSealer | None, Depends(get_sealer)]
