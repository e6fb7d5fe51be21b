"""The Redis client of the long-running writers (notifier, read-model projector):
one that rides out a Redis restart instead of ending the process.

A restarted Redis (kill -9, crash, upgrade) refuses connections for a moment,
then answers ``LOADING`` while it reads its append-only file back; redis-py
raises ``ConnectionError`` (``BusyLoadingError`` is one) for both. Retrying
is safe here because every write of these processes is idempotent: the read
model's compare-and-set scripts, the queue's ``SET NX`` enqueue script, and
moves (``XACK``/``XDEL``/``ZADD``/``HSET``) that change nothing the second time;
a retried ``XREADGROUP`` whose first answer was lost leaves entries pending,
which the reclaimer takes over by idle time. The budget, about half a minute
of backoff, outlasts a restart; a longer outage still ends the process, for
its supervisor (systemd, Kubernetes) to restart.
"""

from __future__ import annotations

from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

#: ~30 s of backoff in all: 50 ms doubling, each wait at most 2 s (full jitter).
RETRIES: Final = 30
BACKOFF_BASE_S: Final = 0.05
BACKOFF_CAP_S: Final = 2.0


def restart_tolerant_redis(url: str, **kwargs: Any) -> Redis:
    """``Redis.from_url(url, **kwargs)`` with the retry policy above."""
    backoff = ExponentialWithJitterBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S)
    return Redis.from_url(url, retry=Retry(backoff, RETRIES), **kwargs)
