"""The delivery queue in Redis (layout shared with the API: /work/wt/REDIS_LAYOUT.md).

- ``hs:deliveries`` STREAM, group ``notifiers``: deliveries ready to try.
- ``hs:delivery:enqueued:{id}`` (SET NX, 7 d): the dispatcher's de-duplication.
- ``hs:delivery:done:{id}`` (7 d): delivered; a re-read entry is skipped.
- ``hs:deliveries:retry`` ZSET (score = due unix time): waiting for a retry.
- ``hs:deliveries:dead`` HASH: gave up; the API lists and re-drives these.

Every state change of an entry is one atomic step (a Lua script or MULTI), so a
process killed at any instant leaves the entry in exactly one place: in the
stream (pending, to be reclaimed), in the retry set, in the dead set, or done.
Handled entries are XACKed *and* XDELed so ``XLEN`` is the backlog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from services.notifier.model import Delivery, NewDelivery

log = logging.getLogger(__name__)

STREAM = "hs:deliveries"
GROUP = "notifiers"
RETRY = "hs:deliveries:retry"
DEAD = "hs:deliveries:dead"
MARKER_TTL_SECONDS = 7 * 24 * 3600

#: A raw stream entry as redis-py returns it (bytes, no decoding).
Entry = tuple[bytes, dict[bytes, bytes]]


def enqueued_key(delivery_id: str) -> str:
    return f"hs:delivery:enqueued:{delivery_id}"


def done_key(delivery_id: str) -> str:
    return f"hs:delivery:done:{delivery_id}"


# SET NX and XADD in one script: with two calls, a crash between them would leave
# the marker without the entry, and the Kafka redelivery would then skip it: lost.
_ENQUEUE_LUA = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'delivery_id', ARGV[2], 'subscription_id', ARGV[3],
             'event', ARGV[4], 'attempt', '0', 'enqueued_at', ARGV[5])
  return 1
end
return 0
"""

# Move due retries back to the stream; one script, so an entry is never in both
# places (duplicate) or in neither (lost), whatever the scheduler's fate.
_MOVE_DUE_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local m = cjson.decode(member)
  local enq = m['enqueued_at']
  if type(enq) ~= 'string' then enq = ARGV[1] end
  redis.call('XADD', KEYS[2], '*', 'delivery_id', m['delivery_id'],
             'subscription_id', m['subscription_id'], 'event', m['event'],
             'attempt', string.format('%d', m['attempt']), 'enqueued_at', enq)
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""


@dataclass(frozen=True, slots=True)
class Depth:
    stream: int
    retry: int
    dead: int


class DeliveryQueue:
    """Thin, typed wrapper over the Redis keys above; one instance per process."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._enqueue = redis.register_script(_ENQUEUE_LUA)
        self._move_due = redis.register_script(_MOVE_DUE_LUA)

    async def ensure_group(self) -> None:
        try:
            # From id 0, so entries the API re-drove before any worker ran are read.
            await self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def enqueue(self, items: list[NewDelivery], now: float) -> list[bool]:
        """Enqueue each item unless it was enqueued before; True where it was new."""
        if not items:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for item in items:
                await self._enqueue(
                    keys=[enqueued_key(item.delivery_id), STREAM],
                    args=[
                        MARKER_TTL_SECONDS,
                        item.delivery_id,
                        item.subscription_id,
                        item.event,
                        repr(now),
                    ],
                    client=pipe,
                )
            results = await pipe.execute()
        return [bool(int(r)) for r in results]

    async def read_new(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        try:
            reply: list[tuple[bytes, list[Entry]]] | None = await self.redis.xreadgroup(
                GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms
            )  # type: ignore[assignment]
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream was deleted under us (FLUSHDB, operator): recreate and go on.
            await self.ensure_group()
            return []
        entries = [entry for _stream, stream_entries in reply or [] for entry in stream_entries]
        return await self._parse(entries)

    async def reclaim(
        self, consumer: str, min_idle_ms: int, count: int, start: bytes = b"0-0"
    ) -> tuple[bytes, list[Delivery]]:
        """Take over entries a dead consumer left pending; returns the scan cursor too."""
        reply = await self.redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_ms, start_id=start, count=count
        )
        cursor, entries = reply[0], reply[1]
        return cursor, await self._parse(entries)

    async def is_done(self, delivery_id: str) -> bool:
        return bool(await self.redis.exists(done_key(delivery_id)))

    async def complete(self, delivery: Delivery) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(done_key(delivery.delivery_id), b"1", ex=MARKER_TTL_SECONDS)
            self._remove(pipe, delivery.entry_id)
            await pipe.execute()

    async def discard(self, delivery: Delivery) -> None:
        await self._discard_entry(delivery.entry_id)

    async def schedule_retry(self, delivery: Delivery, attempt: int, due: float) -> None:
        member = orjson.dumps(
            {
                "delivery_id": delivery.delivery_id,
                "subscription_id": delivery.subscription_id,
                "event": delivery.event.decode(),
                "attempt": attempt,
                # Extra (not in the shared layout): keeps end-to-end latency honest.
                "enqueued_at": repr(delivery.enqueued_at) if delivery.enqueued_at else None,
            }
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(RETRY, {member: due})
            self._remove(pipe, delivery.entry_id)
            await pipe.execute()

    async def dead_letter(
        self, delivery: Delivery, attempts: int, last_error: str, channel: str, now: datetime
    ) -> None:
        value = orjson.dumps(
            {
                "delivery_id": delivery.delivery_id,
                "subscription_id": delivery.subscription_id,
                "event": delivery.event.decode(),
                "attempts": attempts,
                "last_error": last_error,
                "failed_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "channel": channel,
            }
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(DEAD, delivery.delivery_id, value)
            self._remove(pipe, delivery.entry_id)
            await pipe.execute()

    async def move_due(self, now: float, limit: int = 500) -> int:
        moved = await self._move_due(keys=[RETRY, STREAM], args=[repr(now), limit])
        return int(moved)

    async def depth(self) -> Depth:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(STREAM)
            pipe.zcard(RETRY)
            pipe.hlen(DEAD)
            stream, retry, dead = await pipe.execute()
        return Depth(int(stream), int(retry), int(dead))

    @staticmethod
    def _remove(pipe: Pipeline, entry_id: bytes) -> None:
        pipe.xack(STREAM, GROUP, entry_id)
        pipe.xdel(STREAM, entry_id)

    async def _discard_entry(self, entry_id: bytes) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            self._remove(pipe, entry_id)
            await pipe.execute()

    async def _parse(self, entries: list[Entry]) -> list[Delivery]:
        parsed: list[Delivery] = []
        for entry_id, fields in entries:
            try:
                parsed.append(Delivery.from_fields(entry_id, fields))
            except (KeyError, ValueError, TypeError):
                # Not ours to fix and never deliverable: drop it loudly, not silently.
                log.error("dropping malformed queue entry %r", entry_id)
                await self._discard_entry(entry_id)
        return parsed
