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

Dimension scores are whole points (stored as tenths, multiples of 10): a
records event moves the data-growth ratio a little every time, and a
0.1-point wiggle of one dimension is not worth a ``health.changed`` event;
whole points cut those outputs (and their cost on the hot path) without
hiding any move a CSM would act on.

Caps: the model's red flags (``caps:``). While a capping dimension scores at
or below its ``at_most``, the total is at most its ``cap``; when a cap binds,
every contribution is scaled by cap / mean, so they still add up to the score,
and ``capped_by`` names the dimension (the lowest binding cap wins). A cap is a
comparison over scores already computed: no extra measuring per event.

Missing data: a dimension without data (``dimensions.raw_value`` is None) is
listed in ``excluded`` and the other weights are rescaled to sum to 100.
A dimension with weight 0 for the account's segment is not scored at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from streams.domain.scoring.dimensions import raw_value
from streams.domain.scoring.health import DimensionChange, DimensionScore, HealthScore
from streams.domain.scoring.model import (
    DIMENSIONS,
    BandThresholds,
    DimensionConfig,
    ScoringModel,
    normalise,
)
from streams.domain.scoring.parts import Band, ScoreMemo
from streams.domain.scoring.state import AccountState, ScoredState
from streams.domain.scoring.windows import day_index


class ScoreParts(NamedTuple):
    """The numbers of a score before they are dressed for output. Cheap to
    compute and to compare with the memo, so a rescore that changes nothing
    builds no output objects. Per-dimension tuples follow ``model.dimensions``."""

    names: tuple[str, ...]
    raws: tuple[float, ...]
    scores_t: tuple[int, ...]
    weights: tuple[float, ...]
    contributions_t: tuple[int, ...]
    total_t: int
    excluded: tuple[str, ...]
    capped_by: str


def score_account(state: AccountState, model: ScoringModel, now: datetime) -> HealthScore | None:
    """Score ``state`` as of event time ``now``; None when no dimension has data
    (an account known only by its profile has no health yet, rather than 0)."""
    parts = score_parts(state, model, day_index(int(now.timestamp())))
    if parts is None:
        return None
    return build_score(state, parts, model, now, state.last_score)


def score_parts(state: ScoredState, model: ScoringModel, now_day: int) -> ScoreParts | None:
    """Raw values, 0-100 scores (tenths) and rescaled weights of the scored dimensions."""
    weights = model.weights_for(state.profile.segment if state.profile else None)
    raws: list[float | None] = []
    scores_t: list[int] = []
    for dim in model.dimensions:
        raw = raw_value(state, dim, model, now_day) if weights.get(dim.name, 0.0) > 0 else None
        raws.append(raw)
        scores_t.append(-1 if raw is None else dimension_score_t(dim, raw))
    return assemble(model, weights, raws, scores_t)


def dimension_score_t(dim: DimensionConfig, raw: float) -> int:
    """A dimension's 0-100 score in tenths, rounded to whole points (see the module docstring)."""
    return int(normalise(dim.normaliser, raw) + 0.5) * 10


def assemble(
    model: ScoringModel,
    weights: Mapping[str, float],
    raws: Sequence[float | None],
    scores_t: Sequence[int],
) -> ScoreParts | None:
    """Weigh per-dimension values (aligned with ``model.dimensions``) into parts.

    Shared by ``score_parts`` and the engine's incremental ``rescore``, so
    both give the same numbers to the last tenth. Which dimensions count and
    their rescaled weights depend only on the weights and on which dimensions
    have data, so they are worked out once per such pattern (``_layout``)."""
    layout = _layout(model, weights, tuple([raw is not None for raw in raws]))
    if layout is None:
        return None
    kept, names, fractions, excluded, caps = layout
    kept_scores = tuple([scores_t[i] for i in kept])
    exact = [f * s for f, s in zip(fractions, kept_scores, strict=True)]
    capped_by = ""
    if caps:
        exact, capped_by = _capped(exact, kept_scores, names, caps)
    total_t, contributions = apportion(exact)
    return ScoreParts(
        names,
        tuple([raws[i] for i in kept]),  # type: ignore[misc]  # kept: raw is not None
        kept_scores,
        fractions,
        tuple(contributions),
        total_t,
        excluded,
        capped_by,
    )


def _capped(
    exact: list[float],
    kept_scores: tuple[int, ...],
    names: tuple[str, ...],
    caps: tuple[tuple[int, int, int], ...],
) -> tuple[list[float], str]:
    """The contributions scaled down to the lowest binding cap, and its dimension."""
    limit_t, by = -1, -1
    for j, at_most_t, cap_t in caps:
        if kept_scores[j] <= at_most_t and (by < 0 or cap_t < limit_t):
            limit_t, by = cap_t, j
    if by < 0:
        return exact, ""
    mean = sum(exact)
    if int(mean + 0.5) <= limit_t:
        return exact, ""  # the mean is already under the cap: it does not bind
    factor = limit_t / mean
    return [x * factor for x in exact], names[by]


_Layout = tuple[
    tuple[int, ...],
    tuple[str, ...],
    tuple[float, ...],
    tuple[str, ...],
    tuple[tuple[int, int, int], ...],
]
"""Positions of the scored dimensions, their names, rescaled weights, the excluded
names, and the caps of scored dimensions as (index among the scored, at_most and
cap in tenths)."""

_LAYOUTS: dict[tuple[int, int, tuple[bool, ...]], tuple[object, object, _Layout | None]] = {}


def _layout(
    model: ScoringModel, weights: Mapping[str, float], present: tuple[bool, ...]
) -> _Layout | None:
    key = (id(model), id(weights), present)
    entry = _LAYOUTS.get(key)
    if entry is not None and entry[0] is model and entry[1] is weights:
        return entry[2]
    kept: list[int] = []
    used: list[float] = []
    excluded: list[str] = []
    for i, (dim, has_data) in enumerate(zip(model.dimensions, present, strict=True)):
        weight = weights.get(dim.name, 0.0)
        if weight <= 0:
            continue
        if not has_data:
            excluded.append(dim.name)
            continue
        kept.append(i)
        used.append(weight)
    layout: _Layout | None = None
    if kept:
        total_weight = sum(used)
        names = tuple(model.dimensions[i].name for i in kept)
        caps = tuple(
            (names.index(cap.dimension), round(cap.at_most * 10), round(cap.cap * 10))
            for cap in model.caps
            if cap.dimension in names
        )
        fractions = tuple(w / total_weight for w in used)
        layout = (tuple(kept), names, fractions, tuple(excluded), caps)
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()  # models come and go (reloads): never grow without bound
    _LAYOUTS[key] = (model, weights, layout)
    return layout


#: A few segments x 2^6 data patterns per model; a bound, not a tuning knob.
_MAX_LAYOUTS = 4096


def build_score(
    state: ScoredState,
    parts: ScoreParts,
    model: ScoringModel,
    as_of: datetime,
    previous: ScoreMemo | None,
) -> HealthScore:
    """Dress ``parts`` as a ``HealthScore`` with the changes since ``previous``."""
    names, raws, scores_t, contributions_t = (
        parts.names, parts.raws, parts.scores_t, parts.contributions_t
    )  # fmt: skip
    percents = _percents(parts.weights)
    dimensions = tuple([
        # positional: name, raw, score, weight, contribution, score_tenths, contribution_tenths
        DimensionScore(
            names[i], raws[i], scores_t[i] / 10, percents[i], contributions_t[i] / 10,
            scores_t[i], contributions_t[i],
        )
        for i in range(len(names))
    ])  # fmt: skip
    memo = previous
    return HealthScore(
        account_id=state.account_id,
        score=parts.total_t / 10,
        score_tenths=parts.total_t,
        band=band_of(parts.total_t, model.bands),
        dimensions=dimensions,
        excluded=parts.excluded,
        model_version=model.version,
        as_of=as_of,
        previous_score=None if memo is None else memo.score_t / 10,
        previous_band=None if memo is None else memo.band,
        changes=changes_since(memo, dimensions),
        capped_by=parts.capped_by,
    )


_PERCENTS: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {}


def _percents(fractions: tuple[float, ...]) -> tuple[float, ...]:
    """The weights as shown (percent, two decimals) of a layout's rescaled
    ``fractions``. Worked out once per layout, because ``round`` to decimals
    goes through a decimal string and was the costliest part of dressing a
    score; the tuples come from ``_layout``, so one per pattern is kept."""
    entry = _PERCENTS.get(id(fractions))
    if entry is not None and entry[0] is fractions:
        return entry[1]
    percents = tuple([round(fraction * 100, 2) for fraction in fractions])
    if len(_PERCENTS) >= _MAX_LAYOUTS:
        _PERCENTS.clear()
    _PERCENTS[id(fractions)] = (fractions, percents)
    return percents


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


_INDEX: dict[str, int] = {name: i for i, name in enumerate(DIMENSIONS)}


def memo_of(parts: ScoreParts, model: ScoringModel, day: int) -> ScoreMemo:
    """What the state remembers of a score (per dimension, in ``DIMENSIONS`` order)."""
    scores = [-1] * len(DIMENSIONS)
    contributions = [-1] * len(DIMENSIONS)
    for name, s_t, c_t in zip(parts.names, parts.scores_t, parts.contributions_t, strict=True):
        i = _INDEX[name]
        scores[i], contributions[i] = s_t, c_t
    return ScoreMemo(
        score_t=parts.total_t,
        band=band_of(parts.total_t, model.bands),
        day=day,
        model_version=model.version,
        dim_scores_t=tuple(scores),
        contributions_t=tuple(contributions),
    )


def same_score(a: ScoreMemo, b: ScoreMemo) -> bool:
    """Equal apart from the day: nothing a reader of the score could notice moved."""
    return (
        a.score_t == b.score_t
        and a.contributions_t == b.contributions_t
        and a.dim_scores_t == b.dim_scores_t
        and a.model_version == b.model_version
    )
