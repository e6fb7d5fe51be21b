"""Health score: six dimensions, normalised, weighted per segment, explained.

Precision: scores have one decimal. Internally everything is integer tenths of
a point, because the explanation promises that the per-dimension
contributions add up to the score *exactly*, and binary floats cannot promise
that (0.1 + 0.2 != 0.3). The contributions are apportioned with the
largest-remainder method: each exact contribution is floored to a tenth, the
total is the exact sum rounded half-up, and the missing tenths go to the
dimensions with the largest remainders. ``score_tenths`` and
``contribution_tenths`` are the exact values; ``score`` / ``contribution`` are
the same numbers as floats for display.

Missing data: a dimension without data (``dimensions.raw_value`` is None) is
listed in ``excluded`` and the other weights are rescaled to sum to 100.
A dimension with weight 0 for the account's segment is not scored at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from streams.domain.dimensions import raw_value
from streams.domain.model import DIMENSIONS, BandThresholds, ScoringModel, normalise
from streams.domain.state import AccountState, Band, ScoreMemo
from streams.domain.windows import day_index


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """One dimension's part of a score. ``weight`` is after rescaling (all
    scored weights sum to 100); ``contribution`` = weight x score / 100,
    apportioned so that the contributions sum to the total exactly."""

    name: str
    raw: float
    score: float
    weight: float
    contribution: float
    score_tenths: int
    contribution_tenths: int


@dataclass(frozen=True, slots=True)
class DimensionChange:
    """How one dimension moved since the previous score (None = not scored then/now)."""

    name: str
    previous_score: float | None
    score: float | None
    previous_contribution: float | None
    contribution: float | None
    delta: float
    """Change of the contribution in points: what it did to the total."""


@dataclass(frozen=True, slots=True)
class HealthScore:
    """A scored account at ``as_of`` with its explanation."""

    account_id: str
    score: float
    score_tenths: int
    band: Band
    dimensions: tuple[DimensionScore, ...]
    excluded: tuple[str, ...]
    model_version: str
    as_of: datetime
    previous_score: float | None
    previous_band: Band | None
    changes: tuple[DimensionChange, ...]


def score_account(state: AccountState, model: ScoringModel, now: datetime) -> HealthScore | None:
    """Score ``state`` as of event time ``now``; None when no dimension has data
    (an account known only by its profile has no health yet, rather than 0)."""
    now_day = day_index(int(now.timestamp()))
    weights = model.weights_for(state.profile.segment if state.profile else None)
    scored: list[tuple[str, float, int, float]] = []
    excluded: list[str] = []
    for dim in model.dimensions:
        weight = weights.get(dim.name, 0.0)
        if weight <= 0:
            continue
        raw = raw_value(state, dim, model, now_day)
        if raw is None:
            excluded.append(dim.name)
            continue
        scored.append((dim.name, raw, _tenths(normalise(dim.normaliser, raw)), weight))
    if not scored:
        return None
    total_weight = sum(w for *_, w in scored)
    exact = [w / total_weight * s_t for _, _, s_t, w in scored]
    score_t, parts = apportion(exact)
    dimensions = tuple(
        DimensionScore(
            name=name,
            raw=raw,
            score=s_t / 10,
            weight=round(w / total_weight * 100, 2),
            contribution=c_t / 10,
            score_tenths=s_t,
            contribution_tenths=c_t,
        )
        for (name, raw, s_t, w), c_t in zip(scored, parts, strict=True)
    )
    memo = state.last_score
    return HealthScore(
        account_id=state.account_id,
        score=score_t / 10,
        score_tenths=score_t,
        band=band_of(score_t, model.bands),
        dimensions=dimensions,
        excluded=tuple(excluded),
        model_version=model.version,
        as_of=now,
        previous_score=None if memo is None else memo.score_t / 10,
        previous_band=None if memo is None else memo.band,
        changes=changes_since(memo, dimensions),
    )


def apportion(exact_tenths: list[float]) -> tuple[int, list[int]]:
    """Round parts so they sum to the rounded total (largest remainder, ties to
    the earlier part, so the result is deterministic)."""
    floors = [int(x) for x in exact_tenths]  # parts are >= 0, int() floors
    total = int(sum(exact_tenths) + 0.5)
    missing = total - sum(floors)
    if missing > 0:
        order = sorted(range(len(floors)), key=lambda i: floors[i] - exact_tenths[i])
        for i in order[:missing]:
            floors[i] += 1
    return total, floors


def band_of(score_tenths: int, bands: BandThresholds) -> Band:
    """healthy >= bands.healthy; at_risk < bands.at_risk; neutral between."""
    if score_tenths >= bands.healthy * 10:
        return "healthy"
    if score_tenths < bands.at_risk * 10:
        return "at_risk"
    return "neutral"


def changes_since(
    memo: ScoreMemo | None, dimensions: tuple[DimensionScore, ...]
) -> tuple[DimensionChange, ...]:
    """Dimensions whose contribution changed since ``memo``, biggest move first."""
    if memo is None:
        return ()
    now = {d.name: d for d in dimensions}
    changes: list[DimensionChange] = []
    for i, name in enumerate(DIMENSIONS):
        before_c, before_s = memo.contributions_t[i], memo.dim_scores_t[i]
        current = now.get(name)
        after_c = -1 if current is None else current.contribution_tenths
        if before_c == after_c and (current is None or before_s == current.score_tenths):
            continue
        changes.append(
            DimensionChange(
                name=name,
                previous_score=None if before_s < 0 else before_s / 10,
                score=None if current is None else current.score,
                previous_contribution=None if before_c < 0 else before_c / 10,
                contribution=None if current is None else current.contribution,
                delta=(max(after_c, 0) - max(before_c, 0)) / 10,
            )
        )
    changes.sort(key=lambda c: -abs(c.delta))
    return tuple(changes)


def memo_of(score: HealthScore, day: int) -> ScoreMemo:
    """What the state remembers of a score (per dimension, in ``DIMENSIONS`` order)."""
    by_name = {d.name: d for d in score.dimensions}
    return ScoreMemo(
        score_t=score.score_tenths,
        band=score.band,
        day=day,
        model_version=score.model_version,
        dim_scores_t=tuple(by_name[n].score_tenths if n in by_name else -1 for n in DIMENSIONS),
        contributions_t=tuple(
            by_name[n].contribution_tenths if n in by_name else -1 for n in DIMENSIONS
        ),
    )


def _tenths(score: float) -> int:
    return int(score * 10 + 0.5)
