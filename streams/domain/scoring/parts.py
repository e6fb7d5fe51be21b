"""The parts of an account's state rebuilt on most events: ``UsageState`` (a
login, a feature use), ``ScoreMemo`` (every rescore) and ``AlertState`` (every
alert rule run), and the ``Band`` names.

Native classes with a hand-written ``__init__`` when compiled, see
``streams.domain.frozen.by_fields`` for why; ``AccountState``
(``streams.domain.scoring.state``) holds them, and is replaced, never mutated,
and so are they.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from streams.domain.frozen import by_fields
from streams.domain.scoring.windows import Features, Series

Band: TypeAlias = Literal["healthy", "neutral", "at_risk"]


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class UsageState:
    """Usage windows. A bucket in ``active_users`` is an active day; its value is
    the distinct-user estimate of that day (``users_bitmap`` holds the current
    day's bitmap so later logins can still be told apart)."""

    kinds_seen: int = 0
    first_day: int | None = None
    active_users: Series = ()
    users_day: int = 0
    users_bitmap: int = 0
    features: Features = ()
    records: Series = ()
    seats: int | None = None

    def __init__(
        self,
        kinds_seen: int = 0,
        first_day: int | None = None,
        active_users: Series = (),
        users_day: int = 0,
        users_bitmap: int = 0,
        features: Features = (),
        records: Series = (),
        seats: int | None = None,
    ) -> None:
        self.kinds_seen = kinds_seen
        self.first_day = first_day
        self.active_users = active_users
        self.users_day = users_day
        self.users_bitmap = users_bitmap
        self.features = features
        self.records = records
        self.seats = seats

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class ScoreMemo:
    """The last computed score, for change detection, ``changes`` and skipping
    rescoring when nothing changed since ``day``. Per-dimension values are
    tenths of a point in ``model.DIMENSIONS`` order, -1 when excluded."""

    score_t: int
    band: Band
    day: int
    model_version: str
    dim_scores_t: tuple[int, ...]
    contributions_t: tuple[int, ...]

    def __init__(
        self,
        score_t: int,
        band: Band,
        day: int,
        model_version: str,
        dim_scores_t: tuple[int, ...],
        contributions_t: tuple[int, ...],
    ) -> None:
        self.score_t = score_t
        self.band = band
        self.day = day
        self.model_version = model_version
        self.dim_scores_t = dim_scores_t
        self.contributions_t = contributions_t

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)


@dataclass(slots=True, init=False, unsafe_hash=True)  # native: see frozen.by_fields
class AlertState:
    """Alert memory, one field per episode rule: the threshold hysteresis arm,
    the inactivity spell alerted, the open sudden-drop episode (its cause time;
    None when armed) and since when its score has held at the re-arm level,
    whether the onboarding check is done, the daily peak scores of the
    last days for sudden-drop detection, and the open usage-decline episode
    (the midnight it fired; None when armed)."""

    armed: bool = True
    inactivity_spell_s: int | None = None
    sudden_drop_s: int | None = None
    history: tuple[tuple[int, int], ...] = ()
    onboarding_checked: bool = False
    sudden_drop_clear_s: int | None = None
    usage_decline_s: int | None = None

    def __init__(
        self,
        armed: bool = True,
        inactivity_spell_s: int | None = None,
        sudden_drop_s: int | None = None,
        history: tuple[tuple[int, int], ...] = (),
        onboarding_checked: bool = False,
        sudden_drop_clear_s: int | None = None,
        usage_decline_s: int | None = None,
    ) -> None:
        self.armed = armed
        self.inactivity_spell_s = inactivity_spell_s
        self.sudden_drop_s = sudden_drop_s
        self.history = history
        self.onboarding_checked = onboarding_checked
        self.sudden_drop_clear_s = sudden_drop_clear_s
        self.usage_decline_s = usage_decline_s

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return by_fields(self)
