"""The CloudEvents 1.0 envelope every output event travels in.

Downstream tools (CS platforms, Slack bridges, our notifier) de-duplicate on
``id`` and route on ``type``/``subject`` without parsing ``data``; ``id`` is
derived from the event's cause so a replay or a retry yields the same id.
"""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import Identifier, Timestamp

SOURCE = "/healthscore/streams"
TYPE_PREFIX = "io.healthscore."

#: The Kafka ``content-type`` header of an output record: the JSON event format,
#: so a binding-aware consumer reads the value as the whole event (structured
#: content mode of the CloudEvents Kafka binding: ``streams.processing.binding``).
KAFKA_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
#: The attributes an output record also carries as ``ce_<name>`` headers, in
#: header order: all of them but ``data`` and ``datacontenttype``.
KAFKA_HEADER_ATTRIBUTES = ("specversion", "source", "id", "type", "subject", "time")

DataT = TypeVar("DataT", bound=BaseModel)


class CloudEvent(BaseModel, Generic[DataT]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=256, description="Deterministic from the cause.")
    source: str = SOURCE
    type: str = Field(pattern=r"^io\.healthscore\.[a-z_]+(\.[a-z0-9_]+)*$")
    subject: Identifier = Field(description="The account_id.")
    time: Timestamp = Field(description="Event time of the cause (not wall-clock time).")
    datacontenttype: Literal["application/json"] = "application/json"
    data: DataT
