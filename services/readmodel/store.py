"""The Redis read model: written by the projector, read by the API.

Key layout (all keys start with ``hs:``; JSON is UTF-8):

``hs:health:{account_id}`` HASH
    ``doc`` = JSON ``{"event_id", "event_time", "data": <HealthChanged>}``;
    ``v`` / ``t`` = ``as_of`` / CloudEvent ``time`` in epoch microseconds (the
    version a replayed record is compared against, so an older score never
    replaces a newer one); ``m`` = the account's index member; ``idx`` = JSON
    list of the index keys holding ``m`` (to remove it on the next change).
``hs:accounts:by_score`` ZSET, and one per filter value:
``hs:accounts:band:{band}``, ``hs:accounts:segment:{segment}``,
``hs:accounts:owner:{owner}``
    Every score is 0; the member is ``"{score:08.3f}|{account_id}"``, so the
    lexicographic order is (score, account_id): lowest score (most at risk)
    first, ties stable, and a page continues strictly after the last member
    (``ZRANGE ... BYLEX``) with no gap or duplicate while scores change.
    Combined filters walk the smallest set and test the others with ``ZMSCORE``.
    These hold the accounts that are not churned: a churned account's member
    moves to ``hs:accounts:churned:by_score`` (see ``keys.py``) until it is
    reactivated, so the at-risk-first listing and ``band=at_risk`` leave it out.
``hs:alerts`` STREAM (``MAXLEN ~ alerts_maxlen``)
    fields ``id`` (CloudEvent id), ``account_id``, ``type`` (alert name, e.g.
    ``health_below_threshold``), ``event`` (the CloudEvent JSON as read from
    Kafka). The stream id is the alert's cursor and its SSE ``id``.
``hs:alerts:account:{account_id}``, ``hs:alerts:type:{type}`` STREAM
    the same ids as ``hs:alerts`` with only a ``type`` field: secondary indexes
    for the filters, resolved against ``hs:alerts`` (entries trimmed there are gone).
``hs:alert:seen:{event_id}`` STRING (TTL ``dedupe_ttl_s``)
    set NX before appending: a redelivered Kafka record adds no second alert.
``hs:dunning:{account_id}`` HASH
    field = invoice id of an open case, value = JSON of the case's last step.
``hs:dunning:versions:{account_id}`` HASH
    field = invoice id, value = epoch microseconds of the last applied step;
    kept after a case closes so a replayed older step cannot reopen it.

The health hash also holds ``b`` (band), ``ars`` (at risk since, epoch us),
``arr``, ``stage``, the account's members of the sort indexes (``sa``, ``sc``,
``sd``, listed with their keys in ``six``), which indexes hold them (``ix``:
``live`` or ``churned``), the filter SETs it is in (``sets``)
and its first score (``fs``, ``fsm``, ``fsa``: time, month, ARR). The workspace's
keys (history, timeline, dunning history, profiles, lifecycle, month counters,
filter SETs, sort indexes) are listed in ``keys.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final, cast

import orjson
from redis.asyncio import Redis

from services.readmodel import keys
from services.readmodel.ops import Op
from services.readmodel.writer import OpWriter, StoreLimits, score_member

__all__ = ["ReadModelStore", "StoreLimits", "account_of", "is_score_member", "score_member"]

PREFIX: Final = "hs:"
BY_SCORE: Final = keys.score_index()
ALERTS: Final = "hs:alerts"
#: A stream entry as read with ``decode_responses=True``: (id, fields).
Entry = tuple[str, dict[str, str]]

_SCORE_WIDTH: Final = 8  # "100.000" padded: "0100.000"
_MEMBER_RE: Final = re.compile(r"\d{4}\.\d{3}\|.{1,128}", re.DOTALL)


def health_key(account_id: str) -> str:
    return f"hs:health:{account_id}"


def filter_key(field: str, value: str) -> str:
    return f"hs:accounts:{field}:{value}"


def account_alerts_key(account_id: str) -> str:
    return f"hs:alerts:account:{account_id}"


def type_alerts_key(alert_type: str) -> str:
    return f"hs:alerts:type:{alert_type}"


def is_score_member(member: str) -> bool:
    """True for strings shaped like an index member (a cursor must be one)."""
    return _MEMBER_RE.fullmatch(member) is not None


def account_of(member: str) -> str:
    return member[_SCORE_WIDTH + 1 :]


class ReadModelStore:
    """Reads and writes of the read model over one ``redis.asyncio`` client
    (created with ``decode_responses=True``)."""

    def __init__(self, redis: Redis, limits: StoreLimits | None = None) -> None:
        self.redis = redis
        self.limits = limits or StoreLimits()
        self._writer = OpWriter(redis, self.limits)

    # -- writes -----------------------------------------------------------------

    async def apply_ops(self, ops: Sequence[Op]) -> list[bool]:
        """Apply a batch in one pipeline; True per op that changed the model."""
        if not ops:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for op in ops:
            await self._writer.queue(pipe, op)
        results = await pipe.execute()
        return [bool(r) for r in results]

    # -- reads ------------------------------------------------------------------

    async def get_health(self, account_id: str) -> dict[str, Any] | None:
        doc = await self.redis.hget(health_key(account_id), "doc")
        return orjson.loads(doc) if doc else None

    async def list_accounts(
        self, filters: dict[str, str], after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Health docs in at-risk-first order after the member ``after``.

        Returns the page and the member to continue after (None on the last page).
        """
        indexes = [filter_key(f, v) for f, v in filters.items()] or [BY_SCORE]
        primary, others = await self._smallest_first(indexes)
        members = await self._scan_members(primary, others, after, limit + 1)
        page, more = members[:limit], len(members) > limit
        pipe = self.redis.pipeline(transaction=False)
        for member in page:
            pipe.hget(health_key(account_of(member)), "doc")
        docs = [orjson.loads(d) for d in await pipe.execute() if d]
        return docs, (page[-1] if more and page else None)

    async def _smallest_first(self, keys: list[str]) -> tuple[str, list[str]]:
        if len(keys) == 1:
            return keys[0], []
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zcard(key)
        sizes = await pipe.execute()
        ordered = [k for _, k in sorted(zip(sizes, keys, strict=True))]
        return ordered[0], ordered[1:]

    async def _scan_members(
        self, primary: str, others: list[str], after: str | None, want: int
    ) -> list[str]:
        found: list[str] = []
        start = f"({after}" if after else "-"
        chunk = max(want, self.limits.scan_chunk) if others else want
        while len(found) < want:
            batch = cast(
                list[str],
                await self.redis.zrange(primary, start, "+", bylex=True, offset=0, num=chunk),
            )
            if not batch:
                break
            found += await self._in_all(batch, others)
            start = f"({batch[-1]}"
            if len(batch) < chunk:
                break
        return found[:want]

    async def _in_all(self, members: list[str], others: list[str]) -> list[str]:
        if not others:
            return members
        pipe = self.redis.pipeline(transaction=False)
        for key in others:
            pipe.zmscore(key, members)
        scores = await pipe.execute()
        return [m for i, m in enumerate(members) if all(s[i] is not None for s in scores)]

    async def list_alerts(
        self, account_id: str | None, alert_type: str | None, before: str | None, limit: int
    ) -> tuple[list[tuple[str, str]], str | None]:
        """(stream id, CloudEvent JSON) newest first, strictly before ``before``."""
        if account_id:
            source, type_filter = account_alerts_key(account_id), alert_type
        elif alert_type:
            source, type_filter = type_alerts_key(alert_type), None
        else:
            source, type_filter = ALERTS, None
        picked: list[Entry] = []
        upper = f"({before}" if before else "+"
        chunk = self.limits.scan_chunk if type_filter else limit + 1
        while len(picked) <= limit:
            entries = cast(
                list[Entry], await self.redis.xrevrange(source, max=upper, min="-", count=chunk)
            )
            if not entries:
                break
            picked += [(i, f) for i, f in entries if type_filter in (None, f.get("type"))]
            upper = f"({entries[-1][0]}"
            if len(entries) < chunk:
                break
        page, more = picked[:limit], len(picked) > limit
        events = await self._resolve_events(page, resolved=source == ALERTS)
        return events, (page[-1][0] if more and page else None)

    async def _resolve_events(self, page: list[Entry], resolved: bool) -> list[tuple[str, str]]:
        if resolved:
            return [(i, f["event"]) for i, f in page]
        pipe = self.redis.pipeline(transaction=False)
        for stream_id, _ in page:
            pipe.xrange(ALERTS, min=stream_id, max=stream_id, count=1)
        found = await pipe.execute()
        return [(e[0][0], e[0][1]["event"]) for e in found if e]

    async def latest_alert_id(self) -> str:
        """Id of the newest alert, or ``0-0``: where a fresh live tail starts."""
        newest = await self.redis.xrevrange(ALERTS, count=1)
        return str(newest[0][0]) if newest else "0-0"

    async def read_alerts_after(self, last_id: str, block_ms: int, count: int = 100) -> list[Entry]:
        """Alerts newer than ``last_id``, waiting up to ``block_ms`` for one."""
        reply: Any = await self.redis.xread({ALERTS: last_id}, count=count, block=block_ms)
        if not reply:
            return []
        if isinstance(reply, dict):  # RESP3
            return cast(list[Entry], next(iter(reply.values()))[0])
        return cast(list[Entry], reply[0][1])

    async def get_dunning_cases(self, account_id: str) -> list[dict[str, Any]]:
        cases = await self.redis.hgetall(f"hs:dunning:{account_id}")
        return [orjson.loads(cases[k]) for k in sorted(cases)]
