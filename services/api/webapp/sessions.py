"""Browser sessions: an API key exchanged once for a random session id.

The cookie holds only a random id; Redis holds ``hs:session:<sha256(id)>`` ->
the key's name and scopes, with a TTL. The key itself never reaches the cookie,
and a Redis dump gives no usable session id (only its digest is stored).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

import orjson
from redis.asyncio import Redis

from services.api.auth import Principal

COOKIE: Final = "hs_session"
_PREFIX: Final = "hs:session:"
_ID_BYTES: Final = 32
_MAX_ID_CHARS: Final = 128


def _key(session_id: str) -> str:
    return _PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


async def open_session(redis: Redis, principal: Principal, ttl_s: int) -> str:
    """A new session for ``principal``; returns the id to put in the cookie."""
    session_id = secrets.token_urlsafe(_ID_BYTES)
    doc = {"name": principal.name, "scopes": sorted(principal.scopes)}
    await redis.set(_key(session_id), orjson.dumps(doc), ex=ttl_s)
    return session_id


async def resolve_session(redis: Redis, session_id: str | None) -> Principal | None:
    if not session_id or len(session_id) > _MAX_ID_CHARS:
        return None
    raw = await redis.get(_key(session_id))
    if raw is None:
        return None
    doc = orjson.loads(raw)
    return Principal(str(doc["name"]), frozenset(doc["scopes"]))


async def close_session(redis: Redis, session_id: str | None) -> None:
    if session_id and len(session_id) <= _MAX_ID_CHARS:
        await redis.delete(_key(session_id))
