"""Cursor pagination shared by every list endpoint.

A cursor names the last item of a page, never an offset: the next page starts
strictly after it, so items that move or arrive between requests cause neither
a gap nor a duplicate in what the client has already seen. Cursors are opaque
to clients (base64url of the store's position), except the alert cursor,
which is the Redis stream id because it doubles as the SSE ``id``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Annotated, Final, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from services.api.errors import InvalidCursorError

T = TypeVar("T")

_STREAM_ID: Final = re.compile(r"\d{1,20}-\d{1,20}")

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, description="`next_cursor` of the previous page; omit for the first."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, is_valid: Callable[[str], bool]) -> str | None:
    """The store position behind ``cursor``; ``InvalidCursorError`` if forged."""
    if cursor is None:
        return None
    try:
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("cursor is not one this endpoint returned") from None
    if not is_valid(position):
        raise InvalidCursorError("cursor is not one this endpoint returned")
    return position


def stream_position(cursor: str | None) -> str | None:
    """Validate an alert cursor (a Redis stream id such as ``1764000000000-0``)."""
    if cursor is None:
        return None
    if not _STREAM_ID.fullmatch(cursor) or max(map(int, cursor.split("-"))) >= 2**64:
        raise InvalidCursorError("alert cursor must look like 1764000000000-0")
    return cursor
