"""Queue each planned write on a Redis pipeline as one script call.

The store calls ``OpWriter.queue`` for every op of a batch and executes the
pipeline once; each script returns a truthy value when it changed the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.readmodel import keys, lua, lua_workspace
from services.readmodel.ops import (
    Op,
    PutAlert,
    PutDunning,
    PutHealth,
    PutHistory,
    PutLifecycle,
    PutPayment,
    PutProfile,
    PutTimeline,
)

ScriptArg = str | int | float
#: Scored within this long after its profile's created_at, an account is onboarding.
ONBOARDING_WINDOW_US: Final = 90 * 86_400 * 1_000_000
_CHANGE_OFFSET: Final = 100.0  # change is -100..100; the member needs it >= 0


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Caps that keep Redis memory bounded however long the service runs."""

    alerts_maxlen: int = 100_000
    account_alerts_maxlen: int = 1_000
    dedupe_ttl_s: int = 7 * 24 * 3600
    scan_chunk: int = 200
    history_days: int = 92
    timeline_len: int = 200
    dunning_history_len: int = 100
    reasons_per_month: int = 50


def score_member(score: float, account_id: str) -> str:
    """Index member whose byte order is (score, account_id)."""
    return f"{score:08.3f}|{account_id}"


def change_member(change: float, account_id: str) -> str:
    """Sort member whose byte order is (change, account_id), biggest drop first."""
    clamped = min(max(change, -_CHANGE_OFFSET), _CHANGE_OFFSET)
    return f"{clamped + _CHANGE_OFFSET:07.3f}|{account_id}"


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


class OpWriter:
    def __init__(self, redis: Redis, limits: StoreLimits) -> None:
        self.limits = limits
        self._scripts = {
            PutHealth: redis.register_script(lua.PUT_HEALTH),
            PutAlert: redis.register_script(lua.PUT_ALERT),
            PutDunning: redis.register_script(lua.PUT_DUNNING),
            PutHistory: redis.register_script(lua_workspace.PUT_HISTORY),
            PutTimeline: redis.register_script(lua_workspace.PUT_TIMELINE),
            PutLifecycle: redis.register_script(lua_workspace.PUT_LIFECYCLE),
            PutProfile: redis.register_script(lua_workspace.PUT_PROFILE),
            PutPayment: redis.register_script(lua_workspace.PUT_PAYMENT),
        }

    async def queue(self, pipe: Pipeline, op: Op) -> None:
        # Awaiting a script on a pipeline only queues it (and its SCRIPT LOAD).
        script_keys, args = self._call(op)
        await self._scripts[type(op)](keys=script_keys, args=args, client=pipe)

    def _call(self, op: Op) -> tuple[list[str], list[ScriptArg]]:
        lim = self.limits
        if isinstance(op, PutHealth):
            return _health_call(op)
        if isinstance(op, PutAlert):
            alert_keys = [
                f"hs:alert:seen:{op.event_id}",
                "hs:alerts",
                f"hs:alerts:account:{op.account_id}",
                f"hs:alerts:type:{op.alert_type}",
            ]
            return alert_keys, [
                lim.dedupe_ttl_s, lim.alerts_maxlen, lim.account_alerts_maxlen,
                op.event_id, op.account_id, op.alert_type, op.event_json,
            ]  # fmt: skip
        if isinstance(op, PutDunning):
            dunning_keys = [
                f"hs:dunning:{op.account_id}",
                f"hs:dunning:versions:{op.account_id}",
                keys.dunning_history_key(op.account_id),
            ]
            return dunning_keys, [
                op.case_id, op.version_us, "1" if op.closes else "0", op.doc or "",
                op.step, op.month, op.account_id, lim.dunning_history_len,
            ]  # fmt: skip
        if isinstance(op, PutHistory):
            value = _json([op.as_of_us, op.time_us, op.score, op.band])
            return [keys.history_key(op.account_id)], [
                op.day,
                op.as_of_us,
                op.time_us,
                value,
                lim.history_days,
            ]
        if isinstance(op, PutTimeline):
            return [keys.timeline_key(op.account_id)], [op.time_ms, op.entry, lim.timeline_len]
        if isinstance(op, PutLifecycle):
            return [keys.lifecycle_key(op.account_id)], [
                op.event_id, op.account_id, op.change, op.version_us, op.month, op.arr_cents,
                _json([list(d) for d in op.dimensions]), ONBOARDING_WINDOW_US,
                lim.reasons_per_month,
            ]  # fmt: skip
        if isinstance(op, PutProfile):
            return [keys.profile_key(op.account_id)], [
                op.version_us, op.account_id, op.doc, op.plan or "", op.industry or "",
                "" if op.created_us is None else op.created_us, ONBOARDING_WINDOW_US,
            ]  # fmt: skip
        pay_keys = [keys.payments_key(op.month, "attempts"), keys.payments_key(op.month, "failed")]
        return pay_keys, [op.event_id, "1" if op.failed else "0", op.month]


def _health_call(op: PutHealth) -> tuple[list[str], list[ScriptArg]]:
    index = [keys.score_index(), f"hs:accounts:band:{op.band}"]
    filters = [("band", op.band), ("segment", op.segment), ("owner", op.owner)]
    index += [f"hs:accounts:{f}:{v}" for f, v in filters[1:] if v]
    sets = [keys.member_set_key(f, v) for f, v in filters if v]
    return [f"hs:health:{op.account_id}", *index], [
        op.as_of_us, op.time_us, score_member(op.score, op.account_id), op.doc, _json(index),
        op.account_id, op.band, "" if op.arr_cents is None else op.arr_cents,
        change_member(op.change, op.account_id), op.month, _json(sets), ONBOARDING_WINDOW_US,
    ]  # fmt: skip
