"""Churn and revenue analytics over every account, by month."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.api import workspace_queries
from services.api.deps import ReadAccess, StoreDep
from services.api.errors import error_responses
from services.api.models_workspace import ChurnAnalyticsPublic

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

Month = Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Dimension = Literal["segment", "plan", "industry", "reason", "kind"]


@router.get("/churn", response_model=ChurnAnalyticsPublic, responses=error_responses(400, 401, 403))
async def churn(
    _: ReadAccess,
    store: StoreDep,
    period: Annotated[Literal["month"], Query()] = "month",
    dimension: Annotated[Dimension, Query(description="What `breakdown` groups by.")] = "segment",
    from_month: Annotated[Month, Query(alias="from")] = None,
    to_month: Annotated[Month, Query(alias="to")] = None,
) -> ChurnAnalyticsPublic:
    """Per month: churn rate (churned / active at the start of the month), ARR
    churned, expansion and contraction, net revenue retention, payment attempts
    and failures, dunning cases opened and recovered; plus range totals and the
    churn breakdown by `dimension`. At most 36 months; default the last 12."""
    return await workspace_queries.churn_analytics(store, dimension, from_month, to_month)
