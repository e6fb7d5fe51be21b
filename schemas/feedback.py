"""``cs.feedback.v1``: what the customer says (NPS, CSAT surveys)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import Identifier, InputEvent, LongText


class NpsResponse(InputEvent):
    type: Literal["nps_response"]
    score: int = Field(ge=0, le=10)
    comment: LongText | None = None
    user_id: Identifier | None = None


class CsatResponse(InputEvent):
    type: Literal["csat_response"]
    score: int = Field(ge=1, le=5)
    comment: LongText | None = None
    user_id: Identifier | None = None


FeedbackEvent = Annotated[NpsResponse | CsatResponse, Field(discriminator="type")]
