"""The notifier's own types: subscriptions as the API stores them, queued
deliveries, and the routing facts of an event.

Subscriptions are parsed with pydantic because they cross a boundary (JSON
written by another service into Redis); unknown fields are ignored so the API
can add some without breaking delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr

Channel = Literal["webhook", "slack", "email"]


class Filters(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    types: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    min_arr_cents: int | None = None


class Subscription(BaseModel):
    """One row of ``hs:subscriptions``. ``target`` and ``secret`` stay out of
    ``repr`` because a Slack URL or a signing secret in a log line is a leak."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    channel: Channel
    target: str = Field(repr=False)
    secret: SecretStr | None = None
    filters: Filters = Filters()
    active: bool = True


@dataclass(frozen=True, slots=True)
class RoutableEvent:
    """The few CloudEvent facts subscriptions filter on."""

    id: str
    type: str
    segment: str | None = None
    owner: str | None = None
    arr_cents: int | None = None

    @classmethod
    def from_cloudevent(cls, event: dict[str, Any]) -> RoutableEvent:
        """Raises ``ValueError`` when the envelope lacks ``id``/``type``."""
        event_id, event_type = event.get("id"), event.get("type")
        if not isinstance(event_id, str) or not isinstance(event_type, str):
            raise ValueError("CloudEvent without string id/type")
        data = event.get("data")
        data = data if isinstance(data, dict) else {}
        arr = data.get("arr_cents")
        return cls(
            id=event_id,
            type=event_type,
            segment=_str_or_none(data.get("segment")),
            owner=_str_or_none(data.get("owner")),
            arr_cents=arr if isinstance(arr, int) and not isinstance(arr, bool) else None,
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One queued delivery: a stream entry of ``hs:deliveries``."""

    entry_id: bytes
    delivery_id: str
    subscription_id: str
    event: bytes
    attempt: int
    enqueued_at: float | None

    @classmethod
    def from_fields(cls, entry_id: bytes, fields: dict[bytes, bytes]) -> Delivery:
        """Raises ``KeyError``/``ValueError`` on a malformed entry."""
        enqueued = fields.get(b"enqueued_at")
        return cls(
            entry_id=entry_id,
            delivery_id=fields[b"delivery_id"].decode(),
            subscription_id=fields[b"subscription_id"].decode(),
            event=fields[b"event"],
            attempt=int(fields.get(b"attempt", b"0")),
            enqueued_at=float(enqueued) if enqueued else None,
        )

    def parsed_event(self) -> dict[str, Any]:
        value = orjson.loads(self.event)
        if not isinstance(value, dict):
            raise ValueError("event is not a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery the dispatcher wants queued."""

    delivery_id: str
    subscription_id: str
    event: bytes
    event_type: str


def delivery_id_for(event_id: str, subscription_id: str) -> str:
    """The idempotency key: stable across Kafka redeliveries and retries."""
    return f"{event_id}:{subscription_id}"
