"""What the source mappings share: the result type, skip reasons, ids and field readers.

Senders' payloads are loosely typed JSON, so every field is read through a
helper that answers ``None`` for a missing or wrongly typed value instead of
raising: a mapping never crashes on a surprising payload, it skips it with a
reason or leaves the field out for the schema to judge.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeAlias

#: Why a third-party message produced no input event.
SkipReason = Literal["unknown_type", "no_account", "incomplete"]
#: The metric's ``outcome`` label: a fixed set whatever the senders send.
Outcome = Literal["mapped", "duplicate", "invalid", "unknown_type", "no_account", "incomplete"]

#: An input event in the contract's JSON shape, validated later by ``schemas``.
InputItem: TypeAlias = dict[str, Any]

_MAX_ID: Final = 128


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing to produce for this message, and why (safe to show the sender)."""

    reason: SkipReason
    detail: str


Mapped: TypeAlias = InputItem | Skipped


def derived_id(source: str, native_id: str) -> str:
    """Our event id for a sender's message id: the same message (a retry, a
    replay) always gets the same id, so the worker's id dedupe drops repeats.
    Ids that would not fit the contract's 128 characters are hashed."""
    plain = f"{source}:{native_id}"
    if len(plain) <= _MAX_ID:
        return plain
    return f"{source}:sha256:{hashlib.sha256(native_id.encode()).hexdigest()}"


def text(value: Any) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def identifier(value: Any) -> str | None:
    """A non-empty string or an integer id (Segment allows both), as a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def obj(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one (so lookups chain without checks)."""
    return value if isinstance(value, dict) else {}


def epoch_to_rfc3339(seconds: int | None) -> str | None:
    """Unix seconds (Stripe's timestamps) as an RFC 3339 UTC string."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def compact(item: InputItem) -> InputItem:
    """Leave out what the mapping did not find: an optional field is absent
    rather than null, and a required one is reported by the schema as
    "field required" rather than as a wrong type."""
    return {key: value for key, value in item.items() if value is not None}
