"""Churn and revenue analytics from the projector's month counters.

Definitions (the API and the web app show these, nothing else):

* active at the start of month M = accounts first scored before M, minus churns,
  plus reactivations before M (every account with a score counts as a customer);
* churn rate of M = churned in M / active at the start of M; over a range,
  churned in the range / (active at its start + accounts new within it), so a
  range that begins before the first customer still has a rate;
* starting ARR of M = the same running sum over ARR (first score's ARR,
  expansion, contraction, churned and regained ARR);
* net revenue retention of M = (starting ARR + expansion - contraction - churned
  ARR) / starting ARR; expansion and contraction are ARR changes between two
  scores of an account (the profile's ARR travels with every score). Without
  starting ARR (a month, or a range beginning, before any account had ARR) it is
  undefined: ``nrr`` is None and ``nrr_reason`` says why in words (the page
  shows it), naming the first month of the range that has starting ARR, if any;
  a ratio over zero would be no number, and 0 or 100 % would be made up;
* payment-failure rate = failed payments / payment attempts, where an attempt is
  a ``payment_failed`` or ``payment_succeeded`` input event (each id counted once);
* dunning recovery rate = cases recovered / cases opened (a case opens with its
  first ``payment_failed_notice``), each counted in the month it happened.

``read_counters`` does the I/O; ``churn_report`` is a pure function of its result.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final, cast

from redis.asyncio import Redis

from services.readmodel import keys

DIMENSIONS: Final = ("segment", "plan", "industry", "reason", "kind")
_SETS: Final = {
    "payment_attempts": ("pay", "attempts"),
    "payment_failures": ("pay", "failed"),
    "dunning_opened": ("dun", "opened"),
    "dunning_recovered": ("dun", "recovered"),
    "dunning_canceled": ("dun", "canceled"),
}


@dataclass(frozen=True, slots=True)
class Counters:
    """Raw counters: every month up to the range end (the running sums need the
    past), set sizes for the months in range."""

    months: dict[str, dict[str, int]]
    set_sizes: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str
    active_at_start: int
    churned: int
    reactivated: int
    new: int
    churn_rate: float | None
    start_arr_cents: int
    churned_arr_cents: int
    expansion_arr_cents: int
    contraction_arr_cents: int
    nrr: float | None
    nrr_reason: str | None
    payment_attempts: int
    payment_failures: int
    dunning_opened: int
    dunning_recovered: int


@dataclass(frozen=True, slots=True)
class Slice:
    value: str
    churned: int
    churned_arr_cents: int


@dataclass(frozen=True, slots=True)
class ChurnReport:
    months: list[MonthFigures]
    breakdowns: dict[str, list[Slice]] = field(default_factory=dict)
    churned: int = 0
    churn_rate: float | None = None
    nrr: float | None = None
    nrr_reason: str | None = None
    payment_failure_rate: float | None = None
    dunning_recovery_rate: float | None = None


async def known_months(redis: Redis) -> list[str]:
    return sorted(cast(set[str], await redis.smembers(keys.MONTHS)))


async def read_counters(redis: Redis, months: list[str], through: str) -> Counters:
    """Counters of every recorded month up to ``through`` and set sizes of ``months``."""
    past = [m for m in await known_months(redis) if m <= through]
    pipe = redis.pipeline(transaction=False)
    for month in past:
        pipe.hgetall(keys.month_key(month))
    for month in months:
        for family, which in _SETS.values():
            pipe.scard(f"hs:{family}:{month}:{which}")
    replies = await pipe.execute()
    counters = {m: {k: int(v) for k, v in replies[i].items()} for i, m in enumerate(past)}
    sizes = replies[len(past) :]
    per = len(_SETS)
    set_sizes = {
        m: dict(zip(_SETS, sizes[i * per : (i + 1) * per], strict=True))
        for i, m in enumerate(months)
    }
    return Counters(counters, set_sizes)


def churn_report(counters: Counters, months: list[str]) -> ChurnReport:
    """Monthly figures for ``months`` (ascending), range totals and breakdowns."""
    active, arr = 0, 0
    figures: list[MonthFigures] = []
    first = months[0] if months else ""
    start_arr_of_range: int | None = None
    for month in sorted(set(counters.months) | set(months)):
        c = counters.months.get(month, {})
        if month >= first and month in months:
            sizes = counters.set_sizes.get(month, {})
            figures.append(_month(month, c, sizes, active, arr))
            if start_arr_of_range is None:
                start_arr_of_range = arr
        active += c.get("new", 0) - _total(c, "churned") + _total(c, "reactivated")
        arr += _arr_moved(c)
    in_range = [counters.months.get(m, {}) for m in months]
    churned = sum(f.churned for f in figures)
    exposed = (figures[0].active_at_start if figures else 0) + sum(f.new for f in figures)
    failures = sum(f.payment_failures for f in figures)
    attempts = sum(f.payment_attempts for f in figures)
    recovered = sum(f.dunning_recovered for f in figures)
    opened = sum(f.dunning_opened for f in figures)
    nrr = _nrr(start_arr_of_range or 0, figures)
    return ChurnReport(
        months=figures,
        breakdowns={d: _breakdown(in_range, d) for d in DIMENSIONS},
        churned=churned,
        churn_rate=_ratio(churned, exposed),
        nrr=nrr,
        nrr_reason=None if nrr is not None else _no_start_arr("range", figures),
        payment_failure_rate=_ratio(failures, attempts),
        dunning_recovery_rate=_ratio(recovered, opened),
    )


def _month(
    month: str, c: dict[str, int], sizes: dict[str, int], active: int, arr: int
) -> MonthFigures:
    churned = _total(c, "churned")
    exp, con, lost = c.get("exp_arr", 0), c.get("con_arr", 0), _total(c, "churned_arr")
    return MonthFigures(
        month=month,
        active_at_start=active,
        churned=churned,
        reactivated=_total(c, "reactivated"),
        new=c.get("new", 0),
        churn_rate=_ratio(churned, active),
        start_arr_cents=arr,
        churned_arr_cents=lost,
        expansion_arr_cents=exp,
        contraction_arr_cents=con,
        nrr=_ratio(arr + exp - con - lost, arr),
        nrr_reason=None if arr else "no starting ARR in this month",
        payment_attempts=sizes.get("payment_attempts", 0),
        payment_failures=sizes.get("payment_failures", 0),
        dunning_opened=sizes.get("dunning_opened", 0),
        dunning_recovered=sizes.get("dunning_recovered", 0),
    )


def _nrr(start_arr: int, figures: list[MonthFigures]) -> float | None:
    moved = sum(
        f.expansion_arr_cents - f.contraction_arr_cents - f.churned_arr_cents for f in figures
    )
    return _ratio(start_arr + moved, start_arr)


def _no_start_arr(span: str, figures: list[MonthFigures]) -> str:
    first = next((f.month for f in figures if f.start_arr_cents), None)
    reason = f"no starting ARR in this {span}"
    return f"{reason} (the first month with starting ARR is {first})" if first else reason


def _breakdown(months: list[dict[str, int]], dimension: str) -> list[Slice]:
    counts: dict[str, int] = defaultdict(int)
    arrs: dict[str, int] = defaultdict(int)
    for c in months:
        for name, value in c.items():
            change, _, rest = name.partition("|")
            dim, _, key = rest.partition("|")
            if dim != dimension:
                continue
            if change == "churned":
                counts[key] += value
            elif change == "churned_arr":
                arrs[key] += value
    slices = [Slice(k, counts[k], arrs.get(k, 0)) for k in counts if counts[k]]
    return sorted(slices, key=lambda s: (-s.churned, s.value))


def _arr_moved(c: dict[str, int]) -> int:
    gained = c.get("new_arr", 0) + c.get("exp_arr", 0) + _total(c, "reactivated_arr")
    return gained - c.get("con_arr", 0) - _total(c, "churned_arr")


def _total(c: dict[str, int], change: str) -> int:
    return c.get(f"{change}|all|", 0)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
