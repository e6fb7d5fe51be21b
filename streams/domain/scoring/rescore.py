"""Incremental scoring of a draft: recompute only what an event could move.

A full ``score_parts`` measures six dimensions (binary searches over the
windows, a few dozen Python operations each); most events touch one of them
(a ticket cannot move usage) and most of those leave its whole-point score
where it was. So the draft keeps, for the day it was last scored, each
dimension's raw value and score; an event's dimension mask says which to
measure again, a new day (every window slides) or another model measures all.

``score_vector`` then says - without weighing anything - whether the score
can have changed: the per-dimension scores in ``ScoreMemo`` form, compared
with the memo. Only when it differs (or the day is new) are the parts built,
by the same ``scoring.assemble`` a full score uses, so incremental and full
scores agree to the tenth (``tests/unit/domain/test_rescore.py`` checks it
over a simulated run).
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.domain.scoring.apply import StateDraft
from streams.domain.scoring.dimensions import MEASURES, Measure
from streams.domain.scoring.masks import DIM_ALL, DIM_BITS, DIM_WEIGHTS
from streams.domain.scoring.model import DIMENSIONS, DimensionConfig, ScoringModel
from streams.domain.scoring.score import ScoreParts, assemble, dimension_score_t

_Plan = tuple[tuple[DimensionConfig, Measure, int, int], ...]
"""Per model dimension: config, measure, mask bit, position in ``DIMENSIONS``."""

_PLANS: dict[int, tuple[ScoringModel, _Plan]] = {}


def _plan(model: ScoringModel) -> _Plan:
    entry = _PLANS.get(id(model))
    if entry is None or entry[0] is not model:
        plan = tuple(
            (dim, MEASURES[dim.name], DIM_BITS[dim.name], DIMENSIONS.index(dim.name))
            for dim in model.dimensions
        )
        entry = _PLANS[id(model)] = (model, plan)
    return entry[1]


def rescore(draft: StateDraft, model: ScoringModel, now_day: int, mask: int) -> None:
    """Bring the draft's per-dimension cache to ``now_day``, measuring the
    dimensions in ``mask`` (all of them when the day or the model changed)."""
    plan = _plan(model)
    if draft.dim_day != now_day or draft.dim_model is not model:
        mask = DIM_ALL
        draft.dim_day, draft.dim_model = now_day, model
        draft.dim_raws = [None] * len(plan)
        draft.dim_scores = [-1] * len(plan)
    if not mask & ~DIM_WEIGHTS:
        return
    raws, scores = draft.dim_raws, draft.dim_scores
    for i, (dim, measure, bit, _) in enumerate(plan):
        if mask & bit:
            raw = measure(draft, dim, model, now_day)
            raws[i] = raw
            scores[i] = -1 if raw is None else dimension_score_t(dim, raw)


def cached_raw(draft: StateDraft, model: ScoringModel, name: str, now_day: int) -> float | None:
    """The raw value ``rescore`` measured for dimension ``name`` on ``now_day``
    (None: the model has no such dimension, the account no data for it, or
    the cache is not of that day)."""
    if draft.dim_day != now_day or draft.dim_model is not model:
        return None
    for i, (dim, _, _, _) in enumerate(_plan(model)):
        if dim.name == name:
            return draft.dim_raws[i]
    return None


def _weights(draft: StateDraft, model: ScoringModel) -> Mapping[str, float]:
    return model.weights_for(draft.profile.segment if draft.profile else None)


def score_vector(draft: StateDraft, model: ScoringModel) -> tuple[int, ...]:
    """Per-dimension score tenths in ``ScoreMemo.dim_scores_t`` form (``DIMENSIONS``
    order, -1 when excluded or weighted 0): equal to the memo's = same score."""
    weights = _weights(draft, model)
    vector = [-1] * len(DIMENSIONS)
    scores = draft.dim_scores
    for i, (dim, _, _, position) in enumerate(_plan(model)):
        if weights.get(dim.name, 0.0) > 0:
            vector[position] = scores[i]
    return tuple(vector)


def cached_parts(draft: StateDraft, model: ScoringModel) -> ScoreParts | None:
    """The score parts from the cache (call ``rescore`` first)."""
    return assemble(model, _weights(draft, model), draft.dim_raws, draft.dim_scores)
