"""Segment calls -> our usage and account input events (pure).

| Segment call | our event |
|---|---|
| ``track`` named like a login (``Signed In``, ``Logged In``, configurable) | ``login`` |
| any other ``track`` | ``feature_used`` (feature = event name, ``properties.quantity``) |
| ``identify`` with ``name`` and ``segment`` traits (or ``traits.company``) | ``account_upserted`` |
| ``group`` with ``name`` and ``segment`` traits | ``account_upserted`` |

The account is the call's ``groupId``, else ``context.groupId``, else
``traits.account_id`` (of the call, or of ``context.traits`` for a track),
else the id of ``traits.company``. The id is derived from Segment's
``messageId`` (which Segment keeps on retries), and the time is the call's
``timestamp`` (Segment's corrected event time), else ``originalTimestamp``.

Calls that are not for us are skipped, not rejected: an anonymous visitor's
track has no account, most identify calls describe a person and not an
account, and page/screen/alias calls have no counterpart. A Segment workspace
sends these all day, and rejecting them would fill its delivery log with
failures nobody can fix. A call that *is* for us but breaks the contract (a
timestamp without offset, a negative quantity) still fails validation with
422, like ``POST /v1/events``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any, Final, get_args

import orjson

from schemas.accounts import Segment
from services.api.sources.common import (
    InputItem,
    Mapped,
    Skipped,
    compact,
    derived_id,
    identifier,
    obj,
    text,
)

SOURCE: Final = "segment"
_SEGMENTS: Final = frozenset(get_args(Segment))
_PROFILE_FIELDS: Final = ("plan", "industry", "owner", "arr_cents", "renewal_at")


def calls_of(payload: Any) -> list[Any]:
    """The calls in a body: one call, a ``{"batch": [...]}`` envelope (Segment's
    HTTP API), or a JSON array (the webhook destination's batching)."""
    if isinstance(payload, list):
        return payload
    batch = obj(payload).get("batch")
    return batch if isinstance(batch, list) else [payload]


def login_names(config: str) -> frozenset[str]:
    """``HEALTHSCORE_SEGMENT_LOGIN_EVENTS`` as case-folded names."""
    return frozenset(name.strip().casefold() for name in config.split(",") if name.strip())


def map_call(call: Any, logins: Collection[str]) -> Mapped:
    """One Segment call -> one input event or a skip."""
    body = obj(call)
    kind = text(body.get("type")) or "?"
    if kind not in ("track", "identify", "group"):
        return Skipped("unknown_type", f"Segment {kind[:64]!r} calls are not mapped")
    traits = obj(body.get("traits"))
    account = account_of(body, traits)
    if account is None:
        return Skipped("no_account", f"{kind}: no groupId, context.groupId or traits.account_id")
    time = text(body.get("timestamp")) or text(body.get("originalTimestamp"))
    if time is None:
        return Skipped("incomplete", f"{kind}: no timestamp")
    common = {"id": _event_id(body), "account_id": account, "time": time}
    if kind == "track":
        return _track(body, common, logins)
    # A group's traits describe the account; an identify's describe a person,
    # unless it carries Segment's reserved ``company`` trait.
    company = obj(traits.get("company")) if kind == "identify" else {}
    return _profile(company or traits, common)


def account_of(call: dict[str, Any], traits: dict[str, Any]) -> str | None:
    context = obj(call.get("context"))
    candidates = (
        call.get("groupId"),
        context.get("groupId"),
        traits.get("account_id"),
        obj(context.get("traits")).get("account_id"),
        obj(traits.get("company")).get("id"),
    )
    return next((found for c in candidates if (found := identifier(c)) is not None), None)


def _track(call: dict[str, Any], common: InputItem, logins: Collection[str]) -> Mapped:
    name = text(call.get("event"))
    if name is None:
        return Skipped("incomplete", "track: no event name")
    user = identifier(call.get("userId"))
    if name.casefold() in logins:
        return compact({**common, "type": "login", "user_id": user})
    quantity = obj(call.get("properties")).get("quantity")
    return compact(
        {**common, "type": "feature_used", "feature": name, "user_id": user, "quantity": quantity}
    )


def _profile(traits: dict[str, Any], common: InputItem) -> Mapped:
    name = text(traits.get("name"))
    segment = _segment(traits.get("segment"))
    if name is None or segment is None:
        wanted = ", ".join(sorted(_SEGMENTS))
        return Skipped(
            "incomplete", f"no account profile: traits need a name and a segment ({wanted})"
        )
    created = traits.get("created_at", traits.get("createdAt"))
    fields = {key: traits.get(key) for key in _PROFILE_FIELDS}
    return compact(
        {
            **common,
            "type": "account_upserted",
            "name": name,
            "segment": segment,
            "created_at": created,
            **fields,
        }
    )


def _segment(value: Any) -> str | None:
    """``"Mid-Market"`` -> ``mid_market``; None unless it is one of ours."""
    spelled = text(value)
    if spelled is None:
        return None
    normal = spelled.strip().lower().replace("-", "_").replace(" ", "_")
    return normal if normal in _SEGMENTS else None


def _event_id(call: dict[str, Any]) -> str:
    """From ``messageId``; a call without one (not from Segment's libraries)
    gets a digest of its content, the same on every retry."""
    message_id = identifier(call.get("messageId"))
    if message_id is None:
        message_id = hashlib.sha256(orjson.dumps(call, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return derived_id(SOURCE, message_id)
