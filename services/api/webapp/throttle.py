"""Bound failed sign-ins per client address, so the form cannot be used to
guess API keys.

A fixed window per address: the first failure creates
``hs:login:failures:<address>`` with the window as its TTL, each failure
increments it, and once it reaches the limit every sign-in from that address
(right key or not) is refused until the key expires. A success does not reset
the count: one valid key must not buy an attacker more guesses at others.
Counts live in Redis so every API replica shares them.
"""

from __future__ import annotations

from typing import Final

from redis.asyncio import Redis

_PREFIX: Final = "hs:login:failures:"
#: Longest address kept in a key (an IPv6 address with zone fits).
_MAX_ADDRESS_CHARS: Final = 64


def _key(address: str) -> str:
    return _PREFIX + address[:_MAX_ADDRESS_CHARS]


async def retry_after(redis: Redis, address: str, limit: int) -> int | None:
    """Seconds until ``address`` may sign in again, or None when it may now."""
    pipe = redis.pipeline(transaction=False)
    pipe.get(_key(address))
    pipe.ttl(_key(address))
    count, ttl = await pipe.execute()
    if count is None or int(count) < limit:
        return None
    return max(int(ttl), 1)


async def record_failure(redis: Redis, address: str, window_s: int) -> None:
    """Count one failed sign-in; the window starts at the first failure."""
    pipe = redis.pipeline(transaction=True)
    pipe.set(_key(address), 0, ex=window_s, nx=True)
    pipe.incr(_key(address))
    await pipe.execute()
