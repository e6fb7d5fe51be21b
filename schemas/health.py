"""``cs.health.v1`` (compacted): every change of an account's score, explained."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.cloudevents import CloudEvent
from schemas.common import Identifier, OutputModel, Timestamp

Band = Literal["healthy", "neutral", "at_risk"]
HEALTH_CHANGED = "io.healthscore.health.changed"


class DimensionScore(OutputModel):
    """One dimension's part of the score; contributions sum to the score."""

    name: str
    raw_value: float | None = Field(description="The measured value, in the dimension's unit.")
    score: float | None = Field(ge=0, le=100, description="Normalised 0-100; null if no data.")
    weight: float = Field(ge=0, le=100, description="Weight after rescaling for missing data.")
    contribution: float = Field(ge=0, le=100)
    detail: str = Field(default="", description="The raw value in plain words.")


class DimensionChange(OutputModel):
    name: str
    previous: float | None
    current: float | None
    delta: float


class HealthChanged(OutputModel):
    account_id: Identifier
    score: float = Field(ge=0, le=100)
    band: Band
    previous_score: float | None = None
    model_version: str
    as_of: Timestamp = Field(description="Event-time watermark the score was computed at.")
    dimensions: list[DimensionScore]
    changes: list[DimensionChange] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="Top reasons, plain words.")
    segment: str | None = None
    owner: str | None = None
    name: str | None = None
    arr_cents: int | None = None


HealthEvent = CloudEvent[HealthChanged]
