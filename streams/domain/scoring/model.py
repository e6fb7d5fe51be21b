"""The scoring model: a versioned YAML file that says how raw signals become 0-100.

The code fixes *what* each dimension measures (active days, open tickets, ...);
the model fixes *how good* a value is, how much each dimension weighs per
segment, the bands and the alert thresholds. RevOps can therefore tune the
model and replay history against it without a code change, and every score
carries the model ``version`` so two runs can be compared.

``parse_model`` validates everything at load time and raises ``ModelError``
naming the offending key (``dimensions.nps.normalise.kind: ...``): a typo in a
weight must stop the worker at start-up, not silently score with a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

import yaml

from streams.domain.errors import DomainError
from streams.domain.events import Priority, Segment

DimensionName: TypeAlias = Literal[
    "usage_frequency", "feature_depth", "data_growth", "support_load", "payment_status", "nps"
]
DIMENSIONS: tuple[DimensionName, ...] = get_args(DimensionName)
SERIES_DIMENSIONS = frozenset({"usage_frequency", "data_growth"})
"""Dimensions backed by an additive daily series: the only ones a baseline ratio fits."""

SEGMENTS: tuple[str, ...] = get_args(Segment)
PRIORITIES: tuple[str, ...] = get_args(Priority)


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


Normaliser: TypeAlias = Bands | Linear | BaselineRatio


def normalise(rule: Normaliser, raw: float) -> float:
    """Map a raw value onto 0-100 with ``rule``."""
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


@dataclass(frozen=True, slots=True)
class DimensionConfig:
    """How one dimension is measured (``window_days``) and normalised."""

    name: DimensionName
    normaliser: Normaliser
    window_days: int = 30


@dataclass(frozen=True, slots=True)
class SupportLoadConfig:
    """How tickets add up to one "support load" number (see default_model.yaml)."""

    priority_weights: Mapping[str, float]
    reopen_weight: float = 1.5
    low_csat_weight: float = 2.0
    low_csat_max: int = 2
    csat_days: int = 90
    window_days: int = 30
    """Window for counting reopens (the support_load dimension's ``window_days``)."""


@dataclass(frozen=True, slots=True)
class BandThresholds:
    """``healthy`` if score >= healthy, ``at_risk`` if score < at_risk, else neutral."""

    healthy: float = 75.0
    at_risk: float = 60.0


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Alert thresholds; ``rearm`` above ``threshold`` is the hysteresis gap."""

    threshold: float = 60.0
    rearm: float = 65.0
    sudden_drop_points: float = 20.0
    sudden_drop_days: int = 7
    inactivity_days: int = 14


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """A validated scoring model; build it with ``parse_model`` / ``load_model``."""

    version: str
    dimensions: tuple[DimensionConfig, ...]
    default_weights: Mapping[str, float]
    segment_weights: Mapping[str, Mapping[str, float]]
    support: SupportLoadConfig
    nps_max_age_days: int = 90
    bands: BandThresholds = BandThresholds()
    alerts: AlertPolicy = AlertPolicy()

    def dimension(self, name: str) -> DimensionConfig | None:
        """The config of ``name``, or None when the model does not score it."""
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        return None

    def weights_for(self, segment: str | None) -> Mapping[str, float]:
        """Per-dimension weights for a segment (default when unknown or None)."""
        if segment is None:
            return self.default_weights
        return self.segment_weights.get(segment, self.default_weights)


def load_model(path: str | Path) -> ScoringModel:
    """Read and validate a model file; ``ModelError`` says what is wrong and where."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"scoring model {path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelError(f"scoring model {path}: not valid YAML: {exc}") from exc
    try:
        return parse_model(data)
    except ModelError as exc:
        raise ModelError(f"scoring model {path}: {exc}") from None


def parse_model(data: Any) -> ScoringModel:
    """Validate a model document (the parsed YAML) into a ``ScoringModel``."""
    root = _mapping(data, "model")
    _only(root, "model", {"version", "bands", "alerts", "dimensions", "weights"})
    version = root.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        raise ModelError("version: required, a non-empty string")
    dims_doc = _mapping(root.get("dimensions"), "dimensions")
    dimensions = tuple(_dimension(name, dims_doc[name]) for name in _known_dims(dims_doc))
    support_doc = dims_doc.get("support_load") or {}
    nps_doc = dims_doc.get("nps") or {}
    default, segments = _weights(root.get("weights"), {d.name for d in dimensions})
    return ScoringModel(
        version=str(version),
        dimensions=dimensions,
        default_weights=default,
        segment_weights=segments,
        support=_support(
            support_doc, next((d for d in dimensions if d.name == "support_load"), None)
        ),
        nps_max_age_days=_int(nps_doc.get("max_age_days", 90), "dimensions.nps.max_age_days"),
        bands=_bands(root.get("bands", {})),
        alerts=_alerts(root.get("alerts", {})),
    )


# --- sections -------------------------------------------------------------------

_DIMENSION_KEYS: dict[str, set[str]] = {
    "support_load": {
        "priority_weights",
        "reopen_weight",
        "low_csat_weight",
        "low_csat_max",
        "csat_days",
    },
    "nps": {"max_age_days"},
}


def _known_dims(dims: Mapping[str, Any]) -> list[DimensionName]:
    for name in dims:
        if name not in DIMENSIONS:
            known = ", ".join(DIMENSIONS)
            raise ModelError(f"dimensions.{name}: unknown dimension (known: {known})")
    if not dims:
        raise ModelError("dimensions: at least one dimension is required")
    return [d for d in DIMENSIONS if d in dims]


def _dimension(name: DimensionName, doc: Any) -> DimensionConfig:
    where = f"dimensions.{name}"
    body = _mapping(doc, where)
    _only(body, where, {"normalise", "window_days"} | _DIMENSION_KEYS.get(name, set()))
    window = _int(body.get("window_days", 30), f"{where}.window_days", lo=1, hi=90)
    rule = _normaliser(body.get("normalise"), f"{where}.normalise")
    if isinstance(rule, BaselineRatio) and name not in SERIES_DIMENSIONS:
        raise ModelError(
            f"{where}.normalise.kind: baseline_ratio needs a daily series; "
            f"only {', '.join(sorted(SERIES_DIMENSIONS))} have one"
        )
    return DimensionConfig(name=name, normaliser=rule, window_days=window)


def _normaliser(doc: Any, where: str) -> Normaliser:
    body = _mapping(doc, where)
    kind = body.get("kind")
    if kind == "bands":
        _only(body, where, {"kind", "bands"})
        return Bands(steps=_steps(body.get("bands"), f"{where}.bands"))
    if kind == "linear":
        _only(body, where, {"kind", "lo", "hi", "invert"})
        lo, hi = _range(body, where)
        invert = body.get("invert", False)
        if not isinstance(invert, bool):
            raise ModelError(f"{where}.invert: must be true or false, got {invert!r}")
        return Linear(lo=lo, hi=hi, invert=invert)
    if kind == "baseline_ratio":
        _only(body, where, {"kind", "recent_days", "baseline_days", "lo", "hi"})
        recent = _int(body.get("recent_days", 7), f"{where}.recent_days", lo=1, hi=90)
        base = _int(body.get("baseline_days", 90), f"{where}.baseline_days", lo=1, hi=90)
        if recent >= base:
            raise ModelError(f"{where}.recent_days: must be shorter than baseline_days")
        lo, hi = _range(body, where)
        return BaselineRatio(recent_days=recent, baseline_days=base, lo=lo, hi=hi)
    raise ModelError(
        f"{where}.kind: unknown kind {kind!r} (expected bands, linear or baseline_ratio)"
    )


def _steps(doc: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(doc, list) or not doc:
        raise ModelError(f"{where}: must be a non-empty list of [min_raw, score] pairs")
    steps: list[tuple[float, float]] = []
    for i, item in enumerate(doc):
        if not isinstance(item, list) or len(item) != 2:
            raise ModelError(f"{where}[{i}]: must be a [min_raw, score] pair, got {item!r}")
        min_raw = _num(item[0], f"{where}[{i}].min_raw")
        score = _num(item[1], f"{where}[{i}].score", lo=0, hi=100)
        if steps and min_raw <= steps[-1][0]:
            raise ModelError(f"{where}[{i}]: min_raw values must be strictly ascending")
        steps.append((min_raw, score))
    return tuple(steps)


def _range(body: Mapping[str, Any], where: str) -> tuple[float, float]:
    lo = _num(body.get("lo"), f"{where}.lo")
    hi = _num(body.get("hi"), f"{where}.hi")
    if hi <= lo:
        raise ModelError(f"{where}.hi: must be greater than lo ({lo})")
    return lo, hi


def _weights(doc: Any, dims: set[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    body = _mapping(doc, "weights")
    _only(body, "weights", {"default", "segments"})
    default = _weight_map(body.get("default"), "weights.default", dims)
    if sum(default.values()) <= 0:
        raise ModelError("weights.default: at least one weight must be positive")
    segments: dict[str, dict[str, float]] = {}
    for segment, override in _mapping(body.get("segments", {}), "weights.segments").items():
        where = f"weights.segments.{segment}"
        if segment not in SEGMENTS:
            raise ModelError(f"{where}: unknown segment (known: {', '.join(SEGMENTS)})")
        merged = {**default, **_weight_map(override, where, dims)}
        if sum(merged.values()) <= 0:
            raise ModelError(f"{where}: at least one weight must be positive")
        segments[segment] = merged
    return default, segments


def _weight_map(doc: Any, where: str, dims: set[str]) -> dict[str, float]:
    result: dict[str, float] = {}
    for name, value in _mapping(doc, where).items():
        if name not in dims:
            raise ModelError(f"{where}.{name}: not a dimension configured under 'dimensions'")
        result[name] = _num(value, f"{where}.{name}", lo=0)
    return result


def _support(doc: Mapping[str, Any], dim: DimensionConfig | None) -> SupportLoadConfig:
    where = "dimensions.support_load"
    raw = _mapping(doc.get("priority_weights", {}), f"{where}.priority_weights")
    weights = {"low": 0.5, "normal": 1.0, "high": 2.0, "urgent": 4.0}
    for key, value in raw.items():
        if key not in PRIORITIES:
            raise ModelError(f"{where}.priority_weights.{key}: unknown priority")
        weights[key] = _num(value, f"{where}.priority_weights.{key}", lo=0)
    return SupportLoadConfig(
        priority_weights=weights,
        reopen_weight=_num(doc.get("reopen_weight", 1.5), f"{where}.reopen_weight", lo=0),
        low_csat_weight=_num(doc.get("low_csat_weight", 2.0), f"{where}.low_csat_weight", lo=0),
        low_csat_max=_int(doc.get("low_csat_max", 2), f"{where}.low_csat_max", lo=1, hi=5),
        csat_days=_int(doc.get("csat_days", 90), f"{where}.csat_days", lo=1, hi=90),
        window_days=dim.window_days if dim is not None else 30,
    )


def _bands(doc: Any) -> BandThresholds:
    body = _mapping(doc, "bands")
    _only(body, "bands", {"healthy", "at_risk"})
    healthy = _num(body.get("healthy", 75), "bands.healthy", lo=0, hi=100)
    at_risk = _num(body.get("at_risk", 60), "bands.at_risk", lo=0, hi=100)
    if at_risk > healthy:
        raise ModelError("bands.at_risk: must not be above bands.healthy")
    return BandThresholds(healthy=healthy, at_risk=at_risk)


def _alerts(doc: Any) -> AlertPolicy:
    body = _mapping(doc, "alerts")
    keys = {"threshold", "rearm", "sudden_drop_points", "sudden_drop_days", "inactivity_days"}
    _only(body, "alerts", keys)
    threshold = _num(body.get("threshold", 60), "alerts.threshold", lo=0, hi=100)
    rearm = _num(body.get("rearm", 65), "alerts.rearm", lo=0, hi=100)
    if rearm <= threshold:
        raise ModelError("alerts.rearm: must be above alerts.threshold (the hysteresis gap)")
    drop = body.get("sudden_drop_points", 20)
    return AlertPolicy(
        threshold=threshold,
        rearm=rearm,
        sudden_drop_points=_num(drop, "alerts.sudden_drop_points", lo=1, hi=100),
        sudden_drop_days=_int(body.get("sudden_drop_days", 7), "alerts.sudden_drop_days", 1, 30),
        inactivity_days=_int(body.get("inactivity_days", 14), "alerts.inactivity_days", 1, 89),
    )


# --- primitives -----------------------------------------------------------------


def _mapping(doc: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise ModelError(f"{where}: must be a mapping, got {type(doc).__name__}")
    return doc


def _only(body: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ModelError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _num(value: Any, where: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{where}: must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ModelError(f"{where}: {value} is outside [{lo}, {hi}]")
    return float(value)


def _int(value: Any, where: str, lo: int = 0, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{where}: must be a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ModelError(f"{where}: {value} is outside [{lo}, {hi}]")
    return value
