"""``cs.lifecycle.v1``: an account leaving (churned) or coming back (reactivated).

Churn outcomes are the ground truth that churn analytics and the backtest read, so
they travel on their own topic rather than among risk alerts: a consumer of
``cs.alerts.v1`` keeps one payload shape, and the analytics read one small topic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.cloudevents import TYPE_PREFIX, CloudEvent
from schemas.common import Identifier, OutputModel, Timestamp

LifecycleChange = Literal["churned", "reactivated"]
LIFECYCLE_CHANGES: tuple[LifecycleChange, ...] = ("churned", "reactivated")

#: Voluntary: the customer chose to leave (a reason they gave). Involuntary: the
#: subscription ended because payment could not be recovered (dunning ran out).
ChurnKind = Literal["voluntary", "involuntary"]


def lifecycle_event_type(change: LifecycleChange) -> str:
    return f"{TYPE_PREFIX}account.{change}"


class AccountLifecycleChanged(OutputModel):
    account_id: Identifier
    change: LifecycleChange
    reason: str | None = Field(default=None, description="Cancellation reason, as given.")
    kind: ChurnKind | None = Field(default=None, description="Set on `churned` only.")
    arr_cents: int | None = Field(default=None, description="ARR lost (churned) or regained.")
    last_score: float | None = Field(default=None, ge=0, le=100)
    owner: str | None = None
    segment: str | None = None
    name: str | None = None
    plan: str | None = None
    industry: str | None = None
    caused_at: Timestamp


LifecycleEvent = CloudEvent[AccountLifecycleChanged]
