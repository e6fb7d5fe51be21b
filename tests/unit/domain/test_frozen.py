"""fast_init: a faster __init__ that must not change what a frozen dataclass is."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from streams.domain.frozen import fast_init
from streams.domain.scoring.parts import AlertState, UsageState


@fast_init
@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 2
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Twin:
    """``Point`` as ``dataclass`` alone builds it."""

    x: int
    y: int = 2
    tags: tuple[str, ...] = ()


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((1,), {}, (1, 2, ())),
        ((1, 5), {}, (1, 5, ())),
        ((), {"x": 3, "tags": ("a",)}, (3, 2, ("a",))),
    ],
)
def test_fields_and_defaults_as_dataclass_builds_them(
    args: tuple[int, ...], kwargs: dict[str, object], expected: tuple[object, ...]
) -> None:
    point = Point(*args, **kwargs)  # type: ignore[arg-type]
    twin = Twin(*args, **kwargs)  # type: ignore[arg-type]
    assert (point.x, point.y, point.tags) == expected == (twin.x, twin.y, twin.tags)
    assert repr(point).replace("Point", "Twin") == repr(twin)


def test_still_frozen_hashable_replaceable_picklable() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 5  # type: ignore[misc]
    assert hash(point) == hash(Point(1)) and point == Point(1) and point != Point(2)
    assert dataclasses.replace(point, y=9) == Point(1, 9)
    assert pickle.loads(pickle.dumps(point)) == point


def test_signature_is_unchanged() -> None:
    assert inspect.signature(Point) == inspect.signature(Twin)


def test_domain_state_parts_keep_their_defaults() -> None:
    assert UsageState() == UsageState(0, None, (), 0, 0, (), (), None)
    assert AlertState() == AlertState(True, None, None, ())


def test_rejects_what_it_cannot_build_the_same_way() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):
        fast_init(WithFactory)

    @dataclasses.dataclass(frozen=True, slots=True)
    class KeywordOnly:
        a: int
        b: int = dataclasses.field(default=0, kw_only=True)

    with pytest.raises(TypeError, match="not a plain field"):
        fast_init(KeywordOnly)  # a positional b would change what callers mean

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise ValueError

    with pytest.raises(TypeError, match="no __post_init__"):
        fast_init(Checked)
