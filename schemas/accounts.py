"""``cs.accounts.v1`` (compacted): the account profile alerts are routed by."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import Cents, Email, InputEvent, ShortText, Timestamp

Segment = Literal["free", "smb", "mid_market", "enterprise"]


class AccountUpserted(InputEvent):
    type: Literal["account_upserted"]
    name: ShortText = Field(min_length=1)
    segment: Segment
    arr_cents: Cents = 0
    owner: Email | None = Field(default=None, description="The CSM's email.")
    industry: ShortText | None = None
    plan: ShortText | None = None
    renewal_at: Timestamp | None = None
    created_at: Timestamp | None = None


AccountEvent = AccountUpserted
