"""Response models of the workspace endpoints: history, timeline, dunning history,
profile and churn analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.api import examples_workspace as ex
from services.api.models import DunningCasePublic


class HistoryPoint(BaseModel):
    day: str = Field(description="UTC day, YYYY-MM-DD.")
    score: float
    band: str
    as_of: datetime = Field(description="Event time of the day's last score.")


class ScoreHistoryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.HISTORY]})

    account_id: str
    days: int
    points: list[HistoryPoint] = Field(description="One point per day with a score, oldest first.")


class TimelineEntry(BaseModel):
    id: str = Field(description="CloudEvent id of the event behind the entry.")
    kind: Literal["health", "alert", "dunning", "touchpoint", "lifecycle"]
    type: str
    time: datetime
    title: str
    detail: str = ""


class TimelinePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.TIMELINE]})

    account_id: str
    items: list[TimelineEntry] = Field(description="Newest first.")


class DunningCaseRecord(DunningCasePublic):
    closed: bool = Field(False, description="Recovered or canceled.")


class DunningHistoryPublic(BaseModel):
    account_id: str
    cases: list[DunningCaseRecord] = Field(description="Open and closed, latest update first.")


class ProfilePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.PROFILE]})

    account_id: str
    name: str | None = None
    segment: str | None = None
    arr_cents: int | None = None
    owner: str | None = None
    industry: str | None = None
    plan: str | None = None
    renewal_at: datetime | None = None
    created_at: datetime | None = None
    stage: str | None = Field(None, description="onboarding, active or churned.")
    lifecycle: str | None = Field(None, description="Last lifecycle change: churned/reactivated.")


class MonthChurn(BaseModel):
    month: str
    active_at_start: int
    churned: int
    reactivated: int
    new: int
    churn_rate: float | None = Field(description="churned / active_at_start.")
    start_arr_cents: int
    churned_arr_cents: int
    expansion_arr_cents: int
    contraction_arr_cents: int
    nrr: float | None = Field(
        description="Net revenue retention of the month; null without starting ARR."
    )
    nrr_reason: str | None = Field(
        description='Why nrr is null ("no starting ARR in this month"); null when it is not.'
    )
    payment_attempts: int
    payment_failures: int
    dunning_opened: int
    dunning_recovered: int


class ChurnSlice(BaseModel):
    value: str
    churned: int
    churned_arr_cents: int


class ChurnAnalyticsPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [ex.CHURN]})

    period: Literal["month"]
    dimension: str
    from_month: str = Field(alias="from")
    to_month: str = Field(alias="to")
    months: list[MonthChurn]
    breakdown: list[ChurnSlice] = Field(description="Churn in the range by the dimension.")
    churned: int
    churn_rate: float | None = Field(
        description="Churned in the range / (active at its start + new within it)."
    )
    nrr: float | None = Field(
        description="(Starting ARR + expansion - contraction - churned ARR) / starting ARR "
        "over the range; null when the range starts before any account had ARR."
    )
    nrr_reason: str | None = Field(
        description='Why nrr is null, in words: "no starting ARR in this range", naming '
        "the first month of the range that has some; null when nrr is a number.",
        examples=["no starting ARR in this range (the first month with starting ARR is 2026-03)"],
    )
    payment_failure_rate: float | None = Field(description="Failed / attempted payments.")
    dunning_recovery_rate: float | None = Field(description="Recovered / opened cases.")
