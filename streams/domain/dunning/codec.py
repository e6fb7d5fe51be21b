"""JSON codec helpers for the dunning state: timestamps and typed field reads.

The dunning state is saved as JSON (table changelog, Redis read model), so every
``datetime`` in it goes through :func:`to_iso` / :func:`from_iso`. Microseconds
and the offset survive the round trip, which is what makes a restored state
behave exactly like the one that was saved (a restart repeats nothing). Reads
are typed and fail with ``ValueError`` naming the field, so a corrupt changelog
entry is reported rather than half-loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streams.domain.dunning.days import require_aware


def to_iso(moment: datetime) -> str:
    """UTC ISO-8601 text with microseconds kept, e.g. ``2026-11-03T00:00:00+00:00``."""
    return require_aware(moment, "timestamp").isoformat()


def from_iso(text: str) -> datetime:
    """Inverse of :func:`to_iso`; rejects timestamps without an offset."""
    return require_aware(datetime.fromisoformat(text), "timestamp")


def opt_to_iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_iso(moment)


def read_str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"dunning state field {key!r} must be a string, got {value!r}")
    return value


def read_opt_str(raw: Mapping[str, Any], key: str) -> str | None:
    return None if raw.get(key) is None else read_str(raw, key)


def read_int(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"dunning state field {key!r} must be an integer, got {value!r}")
    return value


def read_opt_int(raw: Mapping[str, Any], key: str) -> int | None:
    return None if raw.get(key) is None else read_int(raw, key)


def read_time(raw: Mapping[str, Any], key: str) -> datetime:
    return from_iso(read_str(raw, key))


def read_opt_time(raw: Mapping[str, Any], key: str) -> datetime | None:
    return None if raw.get(key) is None else read_time(raw, key)


def read_ints(raw: Mapping[str, Any], key: str) -> tuple[int, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise ValueError(f"dunning state field {key!r} must be a list of integers")
    return tuple(value)


def read_strs(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"dunning state field {key!r} must be a list of strings")
    return tuple(value)
