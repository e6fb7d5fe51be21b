"""The output values of a health score: ``HealthScore`` with one
``DimensionScore`` per scored dimension and a ``DimensionChange`` per moved one.

Built for every health change (``streams.domain.scoring.score.build_score``),
several per change, and only read after: native classes with a hand-written
``__init__``, see ``streams.domain.frozen.by_fields`` for why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.domain.frozen import by_fields
from streams.domain.scoring.state import Band


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
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

    def __init__(
        self,
        name: str,
        raw: float,
        score: float,
        weight: float,
        contribution: float,
        score_tenths: int,
        contribution_tenths: int,
    ) -> None:
        self.name = name
        self.raw = raw
        self.score = score
        self.weight = weight
        self.contribution = contribution
        self.score_tenths = score_tenths
        self.contribution_tenths = contribution_tenths

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class DimensionChange:
    """How one dimension moved since the previous score (None = not scored then/now)."""

    name: str
    previous_score: float | None
    score: float | None
    previous_contribution: float | None
    contribution: float | None
    delta: float
    """Change of the contribution in points: what it did to the total."""

    def __init__(
        self,
        name: str,
        previous_score: float | None,
        score: float | None,
        previous_contribution: float | None,
        contribution: float | None,
        delta: float,
    ) -> None:
        self.name = name
        self.previous_score = previous_score
        self.score = score
        self.previous_contribution = previous_contribution
        self.contribution = contribution
        self.delta = delta

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
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
    capped_by: str = ""
    """The dimension whose cap holds the score down ("" when none binds)."""

    def __init__(
        self,
        account_id: str,
        score: float,
        score_tenths: int,
        band: Band,
        dimensions: tuple[DimensionScore, ...],
        excluded: tuple[str, ...],
        model_version: str,
        as_of: datetime,
        previous_score: float | None,
        previous_band: Band | None,
        changes: tuple[DimensionChange, ...],
        capped_by: str = "",
    ) -> None:
        self.account_id = account_id
        self.score = score
        self.score_tenths = score_tenths
        self.band = band
        self.dimensions = dimensions
        self.excluded = excluded
        self.model_version = model_version
        self.as_of = as_of
        self.previous_score = previous_score
        self.previous_band = previous_band
        self.changes = changes
        self.capped_by = capped_by

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)
