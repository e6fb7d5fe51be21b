"""Who is looking at a page: a session cookie or an ``Authorization: Bearer`` key.

Pages send an anonymous browser to the sign-in form; the live stream (a fetch
by ``EventSource``, which cannot follow a redirect into a form) answers 401.
Every page needs the ``read`` scope: the app changes nothing, so a read key sees
all of it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from services.api.auth import Authenticator, Principal
from services.api.webapp.sessions import COOKIE, resolve_session

_bearer = HTTPBearer(auto_error=False)


class LoginRequiredError(Exception):
    """No valid session or key: the handler redirects to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def identify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> \
        Principal | None:  # fmt: skip
    authenticator: Authenticator = request.app.state.authenticator
    if credentials is not None or authenticator.open_access:
        return authenticator.authenticate(credentials.credentials if credentials else None)
    redis: Redis = request.app.state.redis
    return await resolve_session(redis, request.cookies.get(COOKIE))


async def page_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = await identify(request, credentials)
    if principal is None:
        raise LoginRequiredError(request.url.path)
    return _reader(request, principal)


async def stream_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = await identify(request, credentials)
    if principal is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return _reader(request, principal)


def _reader(request: Request, principal: Principal) -> Principal:
    if not principal.has("read"):
        raise HTTPException(403, "this API key lacks the 'read' scope")
    request.state.principal = principal.name
    return principal


def login_url(next_path: str) -> str:
    return f"/app/login?next={quote(safe_next(next_path))}"


def safe_next(next_path: str | None) -> str:
    """Only a path inside the app: a sign-in link cannot bounce anyone elsewhere."""
    if next_path and next_path.startswith("/app") and not next_path.startswith("//"):
        return next_path[:512]
    return "/app"


PageViewer = Annotated[Principal, Depends(page_viewer)]
StreamViewer = Annotated[Principal, Depends(stream_viewer)]
