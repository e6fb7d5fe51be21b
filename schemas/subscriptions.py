"""``cs.subscriptions.v1`` (compacted): where alerts and dunning steps are delivered.

Written by the API on every create and delete (key = subscription id; a delete
is a tombstone), read back by ``healthscore readmodel rebuild`` when Redis has
lost its copy. Every consumer of the topic can read it, so a webhook's signing
secret is never on it in clear: ``sealed_secret`` is the secret encrypted
(Fernet: AES-128-CBC + HMAC-SHA256) with a key only the API and the rebuild hold
(``HEALTHSCORE_SUBSCRIPTION_KEYS``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.common import Identifier


class SubscriptionRecordFilters(BaseModel):
    """The subscription's filters as the API accepted them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    types: list[str] = Field(default_factory=list, max_length=50)
    segments: list[str] = Field(default_factory=list, max_length=50)
    owners: list[str] = Field(default_factory=list, max_length=500)
    min_arr_cents: int | None = Field(None, ge=0)


class SubscriptionRecord(BaseModel):
    """One subscription; the record's key is its ``id``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    channel: Literal["webhook", "slack", "email"]
    target: str = Field(min_length=3, max_length=2048)
    sealed_secret: str | None = Field(
        None,
        max_length=512,
        description="The webhook signing secret as a Fernet token; null for other channels.",
    )
    filters: SubscriptionRecordFilters = Field(default_factory=SubscriptionRecordFilters)
    description: str | None = Field(None, max_length=500)
    created_at: AwareDatetime
    active: bool = True
