"""Queries behind the workspace endpoints: the account listing with sorts and
profile filters, score history, timeline, dunning history, profile, churn analytics.

Like ``queries.py``: routes call one function here; store documents become models here.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from services.api.errors import AccountNotFoundError, InvalidRangeError
from services.api.models import AccountSummary
from services.api.models_workspace import (
    ChurnAnalyticsPublic,
    ChurnSlice,
    DunningCaseRecord,
    DunningHistoryPublic,
    HistoryPoint,
    MonthChurn,
    ProfilePublic,
    ScoreHistoryPublic,
    TimelineEntry,
    TimelinePublic,
)
from services.api.pagination import Page, decode_cursor, encode_cursor
from services.readmodel import analytics, workspace
from services.readmodel.listing import AccountLister, AccountQuery, account_rows, is_member_of
from services.readmodel.store import ReadModelStore, is_score_member

#: Longest analytics range, so one request reads a bounded number of months.
MAX_MONTHS = 36
_LEGACY_FILTERS = frozenset({"band", "segment", "owner"})


async def list_accounts(
    store: ReadModelStore, query: AccountQuery, cursor: str | None, limit: int
) -> Page[AccountSummary]:
    """The at-risk-first listing keeps its score index and cursors; any other sort
    or a plan/industry/stage/ARR filter goes through the sort indexes."""
    if _is_score_listing(query):
        after = decode_cursor(cursor, is_score_member)
        docs, last = await store.list_accounts(query.filters, after, limit)
        ids = [d["data"]["account_id"] for d in docs]
        position = last
    else:
        prefix = f"{query.sort}:{query.direction}:"

        def is_valid(p: str) -> bool:
            return p.startswith(prefix) and is_member_of(query.sort, p[len(prefix) :])

        raw = decode_cursor(cursor, is_valid)
        after = raw[len(prefix) :] if raw else None
        ids, last_member = await AccountLister(store.redis).page(query, after, limit)
        position = prefix + last_member if last_member else None
    rows = await account_rows(store.redis, ids)
    items = [AccountSummary.model_validate(r) for r in rows]
    return Page(items=items, next_cursor=encode_cursor(position) if position else None)


def _is_score_listing(query: AccountQuery) -> bool:
    ranged = query.arr_min is not None or query.arr_max is not None
    return (
        query.sort == "score"
        and query.direction == "asc"
        and not ranged
        and set(query.filters) <= _LEGACY_FILTERS
    )


async def score_history(store: ReadModelStore, account_id: str, days: int) -> ScoreHistoryPublic:
    points = await workspace.read_history(store.redis, account_id, days)
    if not points and await store.get_health(account_id) is None:
        raise AccountNotFoundError(f"no health score for account {account_id!r}")
    return ScoreHistoryPublic(
        account_id=account_id,
        days=days,
        points=[
            HistoryPoint(day=p.day, score=p.score, band=p.band, as_of=_from_us(p.as_of_us))
            for p in points
        ],
    )


async def timeline(store: ReadModelStore, account_id: str, limit: int) -> TimelinePublic:
    entries = await workspace.read_timeline(store.redis, account_id, limit)
    return TimelinePublic(
        account_id=account_id, items=[TimelineEntry.model_validate(e) for e in entries]
    )


async def dunning_history(store: ReadModelStore, account_id: str) -> DunningHistoryPublic:
    cases = await workspace.read_dunning_history(store.redis, account_id)
    return DunningHistoryPublic(
        account_id=account_id, cases=[DunningCaseRecord.model_validate(c) for c in cases]
    )


async def profile(store: ReadModelStore, account_id: str) -> ProfilePublic:
    doc = await workspace.read_profile(store.redis, account_id)
    if doc is None:
        raise AccountNotFoundError(f"no profile or score for account {account_id!r}")
    return ProfilePublic.model_validate(doc)


async def churn_figures(
    store: ReadModelStore, first: str | None, last: str | None
) -> tuple[str, str, analytics.ChurnReport]:
    """The range (defaults: the 12 months ending with the latest month the read
    model has counted anything in) and its report, every dimension included."""
    known = await analytics.known_months(store.redis)
    end = last or (known[-1] if known else datetime.now(UTC).strftime("%Y-%m"))
    start = first or _shift(end, -11)
    months = month_range(start, end)
    counters = await analytics.read_counters(store.redis, months, end)
    return start, end, analytics.churn_report(counters, months)


async def churn_analytics(
    store: ReadModelStore, dimension: str, first: str | None, last: str | None
) -> ChurnAnalyticsPublic:
    start, end, report = await churn_figures(store, first, last)
    return ChurnAnalyticsPublic(
        period="month",
        dimension=dimension,
        from_month=start,
        to_month=end,
        months=[MonthChurn.model_validate(asdict(m)) for m in report.months],
        breakdown=[ChurnSlice.model_validate(asdict(s)) for s in report.breakdowns[dimension]],
        churned=report.churned,
        churn_rate=report.churn_rate,
        nrr=report.nrr,
        nrr_reason=report.nrr_reason,
        payment_failure_rate=report.payment_failure_rate,
        dunning_recovery_rate=report.dunning_recovery_rate,
    )


def month_range(start: str, end: str) -> list[str]:
    """Months from ``start`` to ``end`` inclusive (YYYY-MM); ``InvalidRangeError``
    when reversed or longer than ``MAX_MONTHS``."""
    if start > end:
        raise InvalidRangeError(f"from {start} is after to {end}")
    months = [start]
    while months[-1] != end:
        if len(months) >= MAX_MONTHS:
            raise InvalidRangeError(f"at most {MAX_MONTHS} months per request")
        months.append(_shift(months[-1], 1))
    return months


def _shift(month: str, by: int) -> str:
    year, mon = map(int, month.split("-"))
    index = max(year * 12 + mon - 1 + by, 0)  # no month before year 0
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)
