"""Bearer API keys with scopes.

``HEALTHSCORE_API_KEYS`` is ``name:secret:scope1|scope2,...``. Only the SHA-256
digest of each secret is kept after parsing, so a memory dump or a debug repr
does not leak a usable key. A presented token is hashed and compared with
``hmac.compare_digest`` against *every* configured key without stopping at a
match, so the response time tells nothing about which key (or how much of one)
matched.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final, Literal, get_args

from schemas.errors import HealthscoreError

Scope = Literal["read", "ingest", "admin"]
SCOPES: Final[frozenset[str]] = frozenset(get_args(Scope))
MIN_SECRET_CHARS: Final = 16


class ApiKeyConfigError(HealthscoreError, ValueError):
    """``HEALTHSCORE_API_KEYS`` is malformed: fix the entry named in the message
    (format ``name:secret:scope1|scope2``, scopes read, ingest, admin)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name (safe to log) and its scopes."""

    name: str
    scopes: frozenset[str]

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


@dataclass(frozen=True, slots=True)
class _HashedKey:
    digest: bytes
    principal: Principal


ANONYMOUS_ADMIN: Final = Principal("anonymous-development", frozenset({"admin"}))


class Authenticator:
    """Resolves a bearer token to a ``Principal``, or None if unknown."""

    def __init__(self, keys: list[_HashedKey], open_access: bool = False) -> None:
        self._keys = keys
        #: Development without keys: every caller is an admin.
        self.open_access = open_access

    @classmethod
    def from_config(cls, raw: str, development: bool) -> Authenticator:
        keys = parse_api_keys(raw, min_secret=0 if development else MIN_SECRET_CHARS)
        return cls(keys, open_access=development and not keys)

    def authenticate(self, token: str | None) -> Principal | None:
        if self.open_access:
            return ANONYMOUS_ADMIN
        if not token:
            return None
        presented = _digest(token)
        found: Principal | None = None
        for key in self._keys:  # no early exit: constant work per request
            if hmac.compare_digest(presented, key.digest):
                found = key.principal
        return found


def parse_api_keys(raw: str, min_secret: int = MIN_SECRET_CHARS) -> list[_HashedKey]:
    keys: list[_HashedKey] = []
    names: set[str] = set()
    for position, entry in enumerate(e.strip() for e in raw.split(",")):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        secret, _, scope_text = rest.rpartition(":")
        scopes = frozenset(s.strip() for s in scope_text.split("|") if s.strip())
        where = f"key #{position + 1} ({name or 'unnamed'})"  # never the secret itself
        if not name or not secret or not scopes:
            raise ApiKeyConfigError(f"{where}: expected name:secret:scope1|scope2")
        if unknown := scopes - SCOPES:
            raise ApiKeyConfigError(f"{where}: unknown scopes {sorted(unknown)}")
        if len(secret) < min_secret:
            raise ApiKeyConfigError(f"{where}: secret shorter than {min_secret} characters")
        if name in names:
            raise ApiKeyConfigError(f"{where}: duplicate name")
        names.add(name)
        keys.append(_HashedKey(_digest(secret), Principal(name, scopes)))
    return keys


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
