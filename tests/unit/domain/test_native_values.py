"""The values built on most steps (``streams.domain.frozen.by_fields``): compiled
as native classes when the compiled build runs, and values either way (equal,
hashable, picklable and replaceable by their fields)."""

from __future__ import annotations

import dataclasses
import pickle
import types
from datetime import UTC, datetime
from typing import Any

import pytest

from streams.domain.scoring.alerts import AlertInput
from streams.domain.scoring.health import DimensionChange, DimensionScore, HealthScore
from streams.domain.scoring.parts import AlertState, ScoreMemo, UsageState
from streams.domain.scoring.step import HealthChange
from streams.speedups import native

AT = datetime(2026, 11, 20, tzinfo=UTC)
DIM = DimensionScore("usage_frequency", 12.0, 40.0, 25.0, 10.0, 400, 100)
CHANGE = DimensionChange("usage_frequency", 50.0, 40.0, 12.5, 10.0, -2.5)
SCORE = HealthScore(
    "acct-1", 61.5, 615, "neutral", (DIM,), ("nps",), "m1", AT, 64.0, "neutral", (CHANGE,)
)
VALUES: list[Any] = [
    DIM,
    CHANGE,
    SCORE,
    HealthChange("h1", "acct-1", AT, SCORE, ("r",), "ana", "smb", "Acme", 1200, ("line",)),
    AlertInput("acct-1", None, 615, 640, "neutral", True, None, 10, 10, "m1", stalled_s=0),
    UsageState(3, 20_400, ((20_400, 2),), 20_401, 6, (("export", 20_401),), (), 12),
    ScoreMemo(615, "neutral", 20_401, "m1", (400, -1), (100, -1)),
    AlertState(False, None, 1_700_000_000, ((20_400, 640),), True, None),
]
#: A field of each and another value for it.
OTHER: dict[type, tuple[str, object]] = {
    DimensionScore: ("raw", 13.0),
    DimensionChange: ("delta", 1.0),
    HealthScore: ("band", "at_risk"),
    HealthChange: ("id", "h2"),
    AlertInput: ("now_s", 11),
    UsageState: ("users_day", 20_402),
    ScoreMemo: ("day", 20_402),
    AlertState: ("armed", True),
}


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_a_value_round_trips_and_compares_by_its_fields(value: Any) -> None:
    again = pickle.loads(pickle.dumps(value))
    assert again == value and hash(again) == hash(value) and again is not value
    name, new = OTHER[type(value)]
    other = dataclasses.replace(value, **{name: new})
    assert other != value and getattr(other, name) == new
    first = dataclasses.fields(value)[0].name
    assert repr(value).startswith(f"{type(value).__name__}({first}=")


def test_defaults_are_the_dataclass_defaults() -> None:
    assert SCORE.capped_by == ""
    assert HealthChange("h", "a", AT, SCORE, (), None, None, None, None).details == ()
    step = AlertInput("a", None, None, None, None, False, None, 0, 0, None)
    assert (step.onboarding, step.settling, step.stalled_s) == (False, False, -1)


@pytest.mark.skipif(not native.in_use(), reason="the pure-Python build runs this suite")
@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_compiled_their_constructor_is_native(value: Any) -> None:
    """A Python-level ``__init__`` (``fast_init``'s, or a frozen dataclass's)
    costs ~10x a native one; these are built several times per health change."""
    assert not isinstance(type(value).__init__, types.FunctionType)
