"""``cs.usage.v1``: product usage, the main signal of engagement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import Identifier, InputEvent, ShortText


class _UsageBase(InputEvent):
    user_id: Identifier | None = Field(default=None, description="Acting user, if known.")


class Login(_UsageBase):
    type: Literal["login"]


class FeatureUsed(_UsageBase):
    type: Literal["feature_used"]
    feature: ShortText = Field(min_length=1, description="Feature name, e.g. 'reports'.")
    quantity: int | None = Field(default=None, ge=0, description="Uses in this event.")


class RecordsChanged(_UsageBase):
    type: Literal["records_changed"]
    quantity: int = Field(description="Records delta: positive growth, negative deletion.")


class SeatsChanged(_UsageBase):
    type: Literal["seats_changed"]
    quantity: int = Field(ge=0, description="The new seat count.")


UsageEvent = Annotated[
    Login | FeatureUsed | RecordsChanged | SeatsChanged, Field(discriminator="type")
]
