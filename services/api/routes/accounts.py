"""Account health from the read model: one account, or all of them at-risk first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from schemas.health import Band
from services.api import queries
from services.api.deps import ReadAccess, StoreDep
from services.api.errors import error_responses
from services.api.models import AccountHealthPublic, AccountSummary, DunningPublic
from services.api.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

AccountId = Annotated[str, Path(min_length=1, max_length=128, examples=["acme"])]
FilterValue = Annotated[str | None, Query(min_length=1, max_length=254)]


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
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AccountSummary]:
    """Accounts lowest score first (most at risk on top), filters combined with AND.
    Pages are stable: each continues strictly after the previous page's last account."""
    filters = {"band": band, "segment": segment, "owner": owner}
    return await queries.list_accounts(store, filters, cursor, limit)


@router.get(
    "/{account_id}/dunning", response_model=DunningPublic, responses=error_responses(401, 403)
)
async def read_account_dunning(
    account_id: AccountId, _: ReadAccess, store: StoreDep
) -> DunningPublic:
    """Open dunning cases (one per unpaid invoice) with their last and next step.
    A case leaves this list once it is recovered or canceled."""
    return await queries.dunning_cases(store, account_id)
