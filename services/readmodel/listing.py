"""Accounts filtered by profile and sorted by ARR, score, change or days at risk.

Each sort has a lex-ordered index (``hs:accounts:sort:<sort>``, or the score
index ``hs:accounts:by_score``) whose members ``{key}|{account}`` sort in the
sort's order, so a page continues strictly after the last member (the cursor)
with no gap or duplicate while values change, as for the score listing.

Filters are SETs of account ids (and a score-ordered ARR set). Two strategies,
picked per request:

* selective filters (the smallest SET, the filters' intersection or the ARR
  range holds at most ``small_set`` accounts): take those accounts, fetch each
  one's sort member, test every filter, sort in Python;
* otherwise walk the sort index in chunks and test each chunk's accounts
  against the filters with one ``SMISMEMBER``/``ZMSCORE`` per filter; broad
  filters fill a page within a chunk or two.

The work per request is therefore bounded by ``small_set`` or by a walk that
only happens when matches are plentiful.

Churned accounts are listed only for ``stage=churned``: their members live in
separate indexes (``keys.py``), so every other listing walks indexes without
them (their decayed scores would otherwise fill the at-risk-first pages), and
the candidates path keeps only accounts placed in the population asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

import orjson
from redis.asyncio import Redis

from services.readmodel import keys
from services.readmodel.plan import epoch_us

SortName = Literal["score", "arr", "change", "days_at_risk"]
Order = Literal["asc", "desc"]
SET_FILTERS: Final = ("band", "segment", "owner", "plan", "industry", "stage")
#: Natural order per sort: most at risk, largest, biggest drop, longest at risk first.
DEFAULT_ORDER: Final[dict[str, Order]] = {
    "score": "asc", "arr": "desc", "change": "asc", "days_at_risk": "desc",
}  # fmt: skip
#: Health-hash field holding the account's member in each index.
_MEMBER_FIELD: Final = {"score": "m", "arr": "sa", "change": "sc", "days_at_risk": "sd"}
_MEMBER_RE: Final = {
    "score": re.compile(r"\d{4}\.\d{3}\|.{1,128}", re.DOTALL),
    "arr": re.compile(r"\d{16}\|.{1,128}", re.DOTALL),
    "change": re.compile(r"\d{3}\.\d{3}\|.{1,128}", re.DOTALL),
    "days_at_risk": re.compile(r"(\d{17}|~)\|.{1,128}", re.DOTALL),
}
_DAY_US: Final = 86_400_000_000


@dataclass(frozen=True, slots=True)
class AccountQuery:
    filters: dict[str, str] = field(default_factory=dict)  # SET_FILTERS -> value
    arr_min: int | None = None
    arr_max: int | None = None
    sort: SortName = "score"
    order: Order | None = None

    @property
    def direction(self) -> Order:
        return self.order or DEFAULT_ORDER[self.sort]

    @property
    def churned(self) -> bool:
        """True when the churned accounts are asked for (and only they)."""
        return self.filters.get("stage") == "churned"

    @property
    def index(self) -> str:
        """The index this query's sort walks, in its population."""
        if self.sort == "score":
            return keys.score_index(self.churned)
        return keys.sort_key(self.sort, self.churned)

    @property
    def lex_descending(self) -> bool:
        # days_at_risk members hold the at-risk-since time: more days = smaller member.
        descending = self.direction == "desc"
        return not descending if self.sort == "days_at_risk" else descending


def is_member_of(sort: str, member: str) -> bool:
    """True when ``member`` is shaped like a member of ``sort``'s index (cursor check)."""
    pattern = _MEMBER_RE.get(sort)
    return pattern is not None and pattern.fullmatch(member) is not None


def account_in(member: str) -> str:
    return member.split("|", 1)[1]


class AccountLister:
    def __init__(self, redis: Redis, small_set: int = 2_000, chunk: int = 1_000) -> None:
        self.redis = redis
        self.small_set = small_set
        self.chunk = chunk

    async def page(
        self, query: AccountQuery, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """Account ids of one page and the member to continue after (None at the end)."""
        sets = [keys.member_set_key(f, v) for f, v in query.filters.items()]
        candidates = await self._candidates(query, sets)
        if candidates is not None:
            members = await self._from_candidates(query, candidates, sets)
            members = _after(members, after, query.lex_descending)[: limit + 1]
        else:
            members = await self._walk(query, sets, after, limit + 1)
        page, more = members[:limit], len(members) > limit
        return [account_in(m) for m in page], (page[-1] if more and page else None)

    async def _candidates(self, query: AccountQuery, sets: list[str]) -> list[str] | None:
        """The accounts that can match, when few enough to sort here; else None.

        Tried in order of cost: the smallest filter set, the intersection of all
        of them (Redis computes it from the smallest), the accounts in the ARR range.
        """
        pipe = self.redis.pipeline(transaction=False)
        for key in sets:
            pipe.scard(key)
        ranged = query.arr_min is not None or query.arr_max is not None
        lo = "-inf" if query.arr_min is None else query.arr_min
        hi = "+inf" if query.arr_max is None else query.arr_max
        if ranged:
            pipe.zcount(keys.ARR, lo, hi)
        sizes = cast(list[int], await pipe.execute())
        in_range = sizes.pop() if ranged else None
        if sets and min(sizes) <= self.small_set:
            return list(cast(set[str], await self.redis.smembers(sets[sizes.index(min(sizes))])))
        if len(sets) > 1:
            common = cast(set[str], await self.redis.sinter(sets))
            if len(common) <= self.small_set:
                return list(common)
        if in_range is not None and in_range <= self.small_set:
            return cast(list[str], await self.redis.zrangebyscore(keys.ARR, lo, hi))
        return None

    async def _from_candidates(
        self, query: AccountQuery, accounts: list[str], sets: list[str]
    ) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)
        for account in accounts:
            pipe.hmget(f"hs:health:{account}", [_MEMBER_FIELD[query.sort], "ix"])
        found = await pipe.execute()
        # A hash without "ix" has its members in the live indexes (see RESTAGE).
        wanted = "churned" if query.churned else "live"
        scored = [
            (a, m)
            for a, (m, ix) in zip(accounts, found, strict=True)
            if m and (ix or "live") == wanted
        ]
        kept = set(await self._matching([a for a, _ in scored], sets, query))
        members = [m for a, m in scored if a in kept]
        return sorted(members, reverse=query.lex_descending)

    async def _walk(
        self, query: AccountQuery, sets: list[str], after: str | None, want: int
    ) -> list[str]:
        index, desc = query.index, query.lex_descending
        filtered = bool(sets) or query.arr_min is not None or query.arr_max is not None
        chunk = self.chunk if filtered else want
        bound = f"({after}" if after else ("+" if desc else "-")
        found: list[str] = []
        while len(found) < want:
            start, end = (bound, "-") if desc else (bound, "+")
            reply = await self.redis.zrange(
                index, start, end, desc=desc, bylex=True, offset=0, num=chunk
            )
            batch = cast(list[str], reply)
            if not batch:
                break
            kept = set(await self._matching([account_in(m) for m in batch], sets, query))
            found += [m for m in batch if account_in(m) in kept]
            bound = f"({batch[-1]}"
            if len(batch) < chunk:
                break
        return found[:want]

    async def _matching(
        self, accounts: list[str], sets: list[str], query: AccountQuery
    ) -> list[str]:
        ranged = query.arr_min is not None or query.arr_max is not None
        if not accounts or not (sets or ranged):
            return accounts
        pipe = self.redis.pipeline(transaction=False)
        for key in sets:
            pipe.smismember(key, accounts)
        if ranged:
            pipe.zmscore(keys.ARR, accounts)
        replies = await pipe.execute()
        lo = query.arr_min if query.arr_min is not None else float("-inf")
        hi = query.arr_max if query.arr_max is not None else float("inf")
        arrs = replies.pop() if ranged else [0.0] * len(accounts)
        return [
            account
            for i, account in enumerate(accounts)
            if all(r[i] for r in replies) and arrs[i] is not None and lo <= arrs[i] <= hi
        ]


def _after(members: list[str], after: str | None, descending: bool) -> list[str]:
    if after is None:
        return members
    return [m for m in members if (m < after if descending else m > after)]


async def account_rows(redis: Redis, account_ids: list[str]) -> list[dict[str, Any]]:
    """Each account's latest health payload plus what the list shows beside it:
    change, days at risk, lifecycle stage, plan, industry, renewal date."""
    pipe = redis.pipeline(transaction=False)
    for account in account_ids:
        pipe.hmget(f"hs:health:{account}", ["doc", "ars", "stage"])
        pipe.hmget(keys.profile_key(account), ["doc"])
    replies = await pipe.execute()
    rows = []
    for i in range(0, len(replies), 2):
        (doc, ars, stage), (profile_doc,) = replies[i], replies[i + 1]
        if not doc:
            continue  # removed between the index read and now
        data: dict[str, Any] = orjson.loads(doc)["data"]
        profile: dict[str, Any] = orjson.loads(profile_doc) if profile_doc else {}
        rows.append(_row(data, ars, stage, profile))
    return rows


def _row(
    data: dict[str, Any], ars: str | None, stage: str | None, profile: dict[str, Any]
) -> dict[str, Any]:
    previous = data.get("previous_score")
    # Days at risk as of the account's latest score (event time, not wall time).
    days = None
    if ars:
        days = max(0, (epoch_us(datetime.fromisoformat(data["as_of"])) - int(ars)) // _DAY_US)
    return {
        **data,
        "change": round(data["score"] - previous, 3) if previous is not None else 0.0,
        "days_at_risk": days,
        "stage": stage,
        "plan": profile.get("plan"),
        "industry": profile.get("industry"),
        "renewal_at": profile.get("renewal_at"),
    }
