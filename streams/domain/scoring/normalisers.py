"""How a raw dimension value becomes 0-100, and the YAML primitives the model parser shares.

Kept apart from ``model`` so that file stays about *what* a model holds; the
normalisers are small value objects the scorer calls on every rescore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from streams.domain.errors import DomainError


class ModelError(DomainError, ValueError):
    """The scoring model file is invalid; the message names the key. Fix the file and restart."""


@dataclass(frozen=True, slots=True)
class Bands:
    """Step function: the score of the last step whose ``min_raw <= raw``."""

    steps: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Linear:
    """Bounded linear map: ``lo`` -> 0, ``hi`` -> 100 (reversed when ``invert``)."""

    lo: float
    hi: float
    invert: bool = False


@dataclass(frozen=True, slots=True)
class BaselineRatio:
    """The account against itself: daily rate over ``recent_days`` divided by the
    rate over ``baseline_days``, then mapped linearly (``lo`` -> 0, ``hi`` -> 100).
    Catches a decline that an absolute threshold tuned for all accounts misses."""

    recent_days: int
    baseline_days: int
    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class Curve:
    """Piecewise-linear through ``points`` ``(raw, score)``, ascending by raw; flat
    outside them. For a raw value whose meaning keeps changing over a long range
    (days of silence: 95 is not 120), where bands would make steps."""

    points: tuple[tuple[float, float], ...]


Normaliser: TypeAlias = Bands | Linear | BaselineRatio | Curve


def normalise(rule: Normaliser, raw: float) -> float:
    """Map a raw value onto 0-100 with ``rule``."""
    if isinstance(rule, Curve):
        return _interpolate(rule.points, raw)
    if isinstance(rule, Bands):
        result = rule.steps[0][1]
        for min_raw, score in rule.steps:
            if raw < min_raw:
                break
            result = score
        return result
    fraction = (raw - rule.lo) / (rule.hi - rule.lo)
    fraction = 0.0 if fraction < 0.0 else 1.0 if fraction > 1.0 else fraction
    if isinstance(rule, Linear) and rule.invert:
        fraction = 1.0 - fraction
    return fraction * 100.0


def _interpolate(points: tuple[tuple[float, float], ...], raw: float) -> float:
    x0, y0 = points[0]
    if raw <= x0:
        return y0
    for x1, y1 in points[1:]:
        if raw <= x1:
            return y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
        x0, y0 = x1, y1
    return y0


def parse_normaliser(doc: Any, where: str) -> Normaliser:
    """Validate one ``normalise:`` block."""
    body = as_mapping(doc, where)
    kind = body.get("kind")
    if kind == "bands":
        only_keys(body, where, {"kind", "bands"})
        return Bands(steps=_steps(body.get("bands"), f"{where}.bands"))
    if kind == "linear":
        only_keys(body, where, {"kind", "lo", "hi", "invert"})
        lo, hi = _range(body, where)
        invert = body.get("invert", False)
        if not isinstance(invert, bool):
            raise ModelError(f"{where}.invert: must be true or false, got {invert!r}")
        return Linear(lo=lo, hi=hi, invert=invert)
    if kind == "baseline_ratio":
        only_keys(body, where, {"kind", "recent_days", "baseline_days", "lo", "hi"})
        recent = whole(body.get("recent_days", 7), f"{where}.recent_days", lo=1, hi=90)
        base = whole(body.get("baseline_days", 90), f"{where}.baseline_days", lo=1, hi=90)
        if recent >= base:
            raise ModelError(f"{where}.recent_days: must be shorter than baseline_days")
        lo, hi = _range(body, where)
        return BaselineRatio(recent_days=recent, baseline_days=base, lo=lo, hi=hi)
    if kind == "curve":
        only_keys(body, where, {"kind", "points"})
        return Curve(points=_steps(body.get("points"), f"{where}.points"))
    raise ModelError(
        f"{where}.kind: unknown kind {kind!r} (expected bands, linear, baseline_ratio or curve)"
    )


def _steps(doc: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(doc, list) or not doc:
        raise ModelError(f"{where}: must be a non-empty list of [min_raw, score] pairs")
    steps: list[tuple[float, float]] = []
    for i, item in enumerate(doc):
        if not isinstance(item, list) or len(item) != 2:
            raise ModelError(f"{where}[{i}]: must be a [min_raw, score] pair, got {item!r}")
        min_raw = number(item[0], f"{where}[{i}].min_raw")
        score = number(item[1], f"{where}[{i}].score", lo=0, hi=100)
        if steps and min_raw <= steps[-1][0]:
            raise ModelError(f"{where}[{i}]: min_raw values must be strictly ascending")
        steps.append((min_raw, score))
    return tuple(steps)


def _range(body: Mapping[str, Any], where: str) -> tuple[float, float]:
    lo = number(body.get("lo"), f"{where}.lo")
    hi = number(body.get("hi"), f"{where}.hi")
    if hi <= lo:
        raise ModelError(f"{where}.hi: must be greater than lo ({lo})")
    return lo, hi


# --- primitives -----------------------------------------------------------------


def as_mapping(doc: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise ModelError(f"{where}: must be a mapping, got {type(doc).__name__}")
    return doc


def only_keys(body: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ModelError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def number(value: Any, where: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{where}: must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ModelError(f"{where}: {value} is outside [{lo}, {hi}]")
    return float(value)


def whole(value: Any, where: str, lo: int = 0, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{where}: must be a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ModelError(f"{where}: {value} is outside [{lo}, {hi}]")
    return value
