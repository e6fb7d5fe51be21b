"""``cs.deadletter.v1``: every rejected input, kept whole so it can be fixed and
re-driven. The original bytes travel base64-encoded because a reject may not be
UTF-8 or JSON at all."""

from __future__ import annotations

from pydantic import Field

from schemas.common import OutputModel, Timestamp


class DeadLetter(OutputModel):
    topic: str
    partition: int = Field(ge=-1, description="-1 when rejected before reaching Kafka (HTTP).")
    offset: int = Field(ge=-1)
    last_offset: int | None = Field(
        None,
        ge=0,
        description="Set when the dead letter stands for a whole record batch the worker could"
        " not decode (reason kind undecodable_batch): the batch's offsets run from offset to"
        " last_offset, and value_b64 holds the batch's bytes as fetched.",
    )
    key_b64: str | None = None
    value_b64: str = Field(
        description="The original message value, base64; only its first bytes when truncated."
    )
    truncated: bool = Field(
        False,
        description="value_b64 holds only the first bytes of the value: the whole would take"
        " the dead letter past the broker's message size limit.",
    )
    sha256: str | None = Field(
        None, description="Hex SHA-256 of the whole original value, when truncated."
    )
    reason: str = Field(description="Why it was rejected, readable by a person.")
    errors: list[str] = Field(default_factory=list, description="Each validation error.")
    size_bytes: int = Field(ge=0, description="Size of the whole original value.")
    rejected_at: Timestamp = Field(description="Wall-clock time of the rejection.")
