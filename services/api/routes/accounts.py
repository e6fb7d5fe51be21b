"""Account health from the read model: one account, or all of them at-risk first,
and the account page's data (score history, timeline, dunning history, profile)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from schemas.health import Band
from services.api import queries, workspace_queries
from services.api.deps import ReadAccess, StoreDep
from services.api.errors import error_responses
from services.api.models import AccountHealthPublic, AccountSummary, DunningPublic
from services.api.models_workspace import (
    DunningHistoryPublic,
    ProfilePublic,
    ScoreHistoryPublic,
    TimelinePublic,
)
from services.api.pagination import Cursor, Limit, Page
from services.readmodel.listing import AccountQuery, Order, SortName

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

AccountId = Annotated[str, Path(min_length=1, max_length=128, examples=["acme"])]
FilterValue = Annotated[str | None, Query(min_length=1, max_length=254)]
Stage = Literal["onboarding", "active", "churned"]
STAGE_HELP = (
    "Lifecycle stage. Without it, churned accounts are left out of every listing "
    "(at-risk first, `band=at_risk` and every sort); `churned` lists only them, "
    "until a reactivation brings an account back."
)
ArrBound = Annotated[int | None, Query(ge=0, le=10**15, description="ARR in cents.")]


@router.get(
    "/{account_id}/health",
    response_model=AccountHealthPublic,
    responses=error_responses(401, 403, 404),
)
async def read_account_health(
    account_id: AccountId, _: ReadAccess, store: StoreDep
) -> AccountHealthPublic:
    """Latest score, band and per-dimension explanation, with the model version
    and the event time it was computed at. 404 until the account's first score."""
    return await queries.account_health(store, account_id)


@router.get("", response_model=Page[AccountSummary], responses=error_responses(400, 401, 403))
async def list_accounts(
    _: ReadAccess,
    store: StoreDep,
    band: Annotated[Band | None, Query()] = None,
    segment: FilterValue = None,
    owner: FilterValue = None,
    plan: FilterValue = None,
    industry: FilterValue = None,
    stage: Annotated[Stage | None, Query(description=STAGE_HELP)] = None,
    arr_min: ArrBound = None,
    arr_max: ArrBound = None,
    sort: Annotated[SortName, Query(description="What to order by.")] = "score",
    order: Annotated[
        Order | None,
        Query(description="Default: score asc, arr desc, change asc, days_at_risk desc."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AccountSummary]:
    """Accounts lowest score first (most at risk on top) unless `sort` says otherwise;
    filters combine with AND. Churned accounts are listed only with `stage=churned`.
    Pages are stable: each continues strictly after the previous page's last
    account (a cursor belongs to its sort and order)."""
    given = {"band": band, "segment": segment, "owner": owner, "plan": plan,
             "industry": industry, "stage": stage}  # fmt: skip
    query = AccountQuery(
        filters={k: v for k, v in given.items() if v},
        arr_min=arr_min,
        arr_max=arr_max,
        sort=sort,
        order=order,
    )
    return await workspace_queries.list_accounts(store, query, cursor, limit)


@router.get(
    "/{account_id}/dunning", response_model=DunningPublic, responses=error_responses(401, 403)
)
async def read_account_dunning(
    account_id: AccountId, _: ReadAccess, store: StoreDep
) -> DunningPublic:
    """Open dunning cases (one per unpaid invoice) with their last and next step.
    A case leaves this list once it is recovered or canceled (see `/dunning/history`)."""
    return await queries.dunning_cases(store, account_id)


@router.get(
    "/{account_id}/dunning/history",
    response_model=DunningHistoryPublic,
    responses=error_responses(401, 403),
)
async def read_dunning_history(
    account_id: AccountId, _: ReadAccess, store: StoreDep
) -> DunningHistoryPublic:
    """Every dunning case of the account, open and closed (recovered or canceled),
    each with its last step; the most recent cases are kept (capped)."""
    return await workspace_queries.dunning_history(store, account_id)


@router.get(
    "/{account_id}/history",
    response_model=ScoreHistoryPublic,
    responses=error_responses(401, 403, 404),
)
async def read_score_history(
    account_id: AccountId,
    _: ReadAccess,
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=90, description="How far back.")] = 90,
) -> ScoreHistoryPublic:
    """The account's score, one point per day (the day's last score), oldest first."""
    return await workspace_queries.score_history(store, account_id, days)


@router.get(
    "/{account_id}/timeline", response_model=TimelinePublic, responses=error_responses(401, 403)
)
async def read_timeline(
    account_id: AccountId,
    _: ReadAccess,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Entries, newest first.")] = 50,
) -> TimelinePublic:
    """Score moves, alerts, dunning steps, touchpoints and churn/reactivation of the
    account, newest first, each in plain words (the latest 200 are kept)."""
    return await workspace_queries.timeline(store, account_id, limit)


@router.get(
    "/{account_id}/profile", response_model=ProfilePublic, responses=error_responses(401, 403, 404)
)
async def read_profile(account_id: AccountId, _: ReadAccess, store: StoreDep) -> ProfilePublic:
    """The account's profile (`cs.accounts.v1`: plan, industry, renewal date...) and
    its lifecycle stage."""
    return await workspace_queries.profile(store, account_id)
