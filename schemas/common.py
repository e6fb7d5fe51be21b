"""Field types and base models shared by every event of the contract.

Strictness is the point: a producer bug (a naive timestamp, an amount sent as a
string, a misspelt field) must be rejected at the door with a readable reason,
not half-understood by the scorer. Hence ``strict=True`` (no "12" -> 12
coercion), ``extra="forbid"`` (a misspelt optional field would otherwise be lost
silently) and timezone-aware timestamps normalised to UTC so day buckets agree
everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

#: Largest accepted input message. Bigger ones are dead-lettered unparsed, so a
#: runaway producer cannot make the worker spend time or memory on them.
MAX_EVENT_BYTES = 64 * 1024


def _to_utc(value: datetime) -> datetime:
    # At the edges of the calendar (0001-01-01T00:15+01:00) the UTC instant
    # does not exist; a ValueError makes that a reject, not a worker crash.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp is outside the representable range in UTC") from None


#: RFC 3339 timestamp that must carry an offset; stored in UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]
#: Identifiers: non-empty, bounded so state and keys stay small.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=4096)]
#: ISO 4217 code. Lower case is accepted and stored upper case: Stripe and other
#: billing systems send ``"usd"``, and both spellings name the same currency.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_upper=True)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Cents = Annotated[int, Field(ge=0)]


class InputEvent(BaseModel):
    """Fields every input event carries; subclasses fix ``type`` to a literal."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    id: Identifier = Field(description="Producer's unique id; a repeated id is a duplicate.")
    account_id: Identifier = Field(description="The customer account; also the Kafka key.")
    time: Timestamp = Field(description="Event time, RFC 3339 with offset.")


class OutputModel(BaseModel):
    """Base of the payloads we emit: strict on the way out too, so a bug in the
    worker cannot publish a shape consumers were not promised."""

    model_config = ConfigDict(extra="forbid", frozen=True)
