"""Pre-encoded JSON fragments: how the simulator emits JSON at several hundred k events/s.

Serialising a fresh dict per event with orjson is fast, but building the dict
first is not, and neither is keeping orjson's oversized output buffers alive
(malloc: ~6 us each). Nearly every event differs from its account's previous
one only by ``id``, ``time`` and one or two values, so the constant parts are
encoded once, by orjson (so quoting and escaping are orjson's), and an event is
assembled as ``{"id":..,<head>,"time":..<tail>}`` in one string format.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

#: (epoch seconds, topic, key, head, tail): an event waiting for its id and time.
#: ``head`` is ``"account_id":..,"type":..``; ``tail`` is ``,"field":value...`` or "".
RawEvent = tuple[int, str, bytes, str, str]


@lru_cache(maxsize=65_536)
def head(account_id: str, event_type: str) -> str:
    """The ``"account_id":..,"type":..`` part, cached per account and type."""
    return orjson.dumps({"account_id": account_id, "type": event_type}).decode()[1:-1]


def tail(fields: dict[str, Any]) -> str:
    """``,"k":v,...`` for the event-specific fields (empty when there are none)."""
    if not fields:
        return ""
    return "," + orjson.dumps(fields).decode()[1:-1]


def field(name: str, value: Any) -> str:
    """One ``,"name":value`` fragment."""
    return tail({name: value})


def assemble(event_id: str, head_part: str, time_text: str, tail_part: str) -> bytes:
    """The complete event; the hot loop in ``Simulation.encode`` inlines this."""
    return f'{{"id":"{event_id}",{head_part},"time":"{time_text}"{tail_part}}}'.encode()
