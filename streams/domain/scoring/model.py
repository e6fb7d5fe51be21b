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

from streams.domain.events import Priority
from streams.domain.scoring.alert_rules import (
    SEGMENTS,
    AlertPolicy,
    LifecyclePolicy,
    parse_alerts,
    parse_lifecycle,
)
from streams.domain.scoring.normalisers import (
    Bands,
    BaselineRatio,
    Curve,
    Linear,
    ModelError,
    Normaliser,
    as_mapping,
    normalise,
    number,
    only_keys,
    parse_normaliser,
    whole,
)
from streams.domain.scoring.touchpoint_rules import TouchpointPolicy, parse_touchpoints

DimensionName: TypeAlias = Literal[
    "usage_frequency",
    "feature_depth",
    "data_growth",
    "support_load",
    "payment_status",
    "nps",
    "recency",
    "activity_trend",
]
DIMENSIONS: tuple[DimensionName, ...] = get_args(DimensionName)
SERIES_DIMENSIONS = frozenset({"usage_frequency", "data_growth", "activity_trend"})
"""Dimensions backed by an additive daily series: the only ones a baseline ratio fits."""

__all__ = [
    "DIMENSIONS",
    "SERIES_DIMENSIONS",
    "AlertPolicy",
    "BandThresholds",
    "Bands",
    "BaselineRatio",
    "Cap",
    "Curve",
    "DimensionConfig",
    "LifecyclePolicy",
    "Linear",
    "ModelError",
    "Normaliser",
    "ScoringModel",
    "load_model",
    "normalise",
    "parse_model",
]

PRIORITIES: tuple[str, ...] = get_args(Priority)


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
class Cap:
    """A red flag: while ``dimension`` scores ``at_most`` or less, the total is
    at most ``cap``, whatever the other dimensions say. A weighted mean lets
    five good dimensions outvote one that alone means churn (an invoice unpaid
    past its retries, a detractor); a cap says that one is enough."""

    dimension: DimensionName
    at_most: float
    cap: float


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
    alerts: AlertPolicy = AlertPolicy()  # noqa: RUF009 - frozen, shared
    lifecycle: LifecyclePolicy = LifecyclePolicy()  # noqa: RUF009 - frozen, shared
    touchpoints: TouchpointPolicy = TouchpointPolicy()  # noqa: RUF009 - frozen, shared
    caps: tuple[Cap, ...] = ()

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
    root = as_mapping(data, "model")
    only_keys(
        root,
        "model",
        {"version", "bands", "alerts", "caps", "dimensions", "weights", "lifecycle", "touchpoints"},
    )
    version = root.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        raise ModelError("version: required, a non-empty string")
    dims_doc = as_mapping(root.get("dimensions"), "dimensions")
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
        nps_max_age_days=whole(nps_doc.get("max_age_days", 90), "dimensions.nps.max_age_days"),
        bands=_bands(root.get("bands", {})),
        alerts=parse_alerts(root.get("alerts", {})),
        lifecycle=parse_lifecycle(root.get("lifecycle", {})),
        touchpoints=parse_touchpoints(root.get("touchpoints", {})),
        caps=_caps(root.get("caps") or {}, dimensions),  # an empty section: no caps
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
    body = as_mapping(doc, where)
    only_keys(body, where, {"normalise", "window_days"} | _DIMENSION_KEYS.get(name, set()))
    window = whole(body.get("window_days", 30), f"{where}.window_days", lo=1, hi=90)
    rule = parse_normaliser(body.get("normalise"), f"{where}.normalise")
    if isinstance(rule, BaselineRatio) and name not in SERIES_DIMENSIONS:
        raise ModelError(
            f"{where}.normalise.kind: baseline_ratio needs a daily series; "
            f"only {', '.join(sorted(SERIES_DIMENSIONS))} have one"
        )
    return DimensionConfig(name=name, normaliser=rule, window_days=window)


def _weights(doc: Any, dims: set[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    body = as_mapping(doc, "weights")
    only_keys(body, "weights", {"default", "segments"})
    default = _weight_map(body.get("default"), "weights.default", dims)
    if sum(default.values()) <= 0:
        raise ModelError("weights.default: at least one weight must be positive")
    segments: dict[str, dict[str, float]] = {}
    for segment, override in as_mapping(body.get("segments", {}), "weights.segments").items():
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
    for name, value in as_mapping(doc, where).items():
        if name not in dims:
            raise ModelError(f"{where}.{name}: not a dimension configured under 'dimensions'")
        result[name] = number(value, f"{where}.{name}", lo=0)
    return result


def _support(doc: Mapping[str, Any], dim: DimensionConfig | None) -> SupportLoadConfig:
    where = "dimensions.support_load"
    raw = as_mapping(doc.get("priority_weights", {}), f"{where}.priority_weights")
    weights = {"low": 0.5, "normal": 1.0, "high": 2.0, "urgent": 4.0}
    for key, value in raw.items():
        if key not in PRIORITIES:
            raise ModelError(f"{where}.priority_weights.{key}: unknown priority")
        weights[key] = number(value, f"{where}.priority_weights.{key}", lo=0)
    return SupportLoadConfig(
        priority_weights=weights,
        reopen_weight=number(doc.get("reopen_weight", 1.5), f"{where}.reopen_weight", lo=0),
        low_csat_weight=number(doc.get("low_csat_weight", 2.0), f"{where}.low_csat_weight", lo=0),
        low_csat_max=whole(doc.get("low_csat_max", 2), f"{where}.low_csat_max", lo=1, hi=5),
        csat_days=whole(doc.get("csat_days", 90), f"{where}.csat_days", lo=1, hi=90),
        window_days=dim.window_days if dim is not None else 30,
    )


def _bands(doc: Any) -> BandThresholds:
    body = as_mapping(doc, "bands")
    only_keys(body, "bands", {"healthy", "at_risk"})
    healthy = number(body.get("healthy", 75), "bands.healthy", lo=0, hi=100)
    at_risk = number(body.get("at_risk", 60), "bands.at_risk", lo=0, hi=100)
    if at_risk > healthy:
        raise ModelError("bands.at_risk: must not be above bands.healthy")
    return BandThresholds(healthy=healthy, at_risk=at_risk)


def _caps(doc: Any, dimensions: tuple[DimensionConfig, ...]) -> tuple[Cap, ...]:
    body = as_mapping(doc, "caps")
    caps: list[Cap] = []
    for name, rule in body.items():
        where = f"caps.{name}"
        dim = next((d.name for d in dimensions if d.name == name), None)
        if dim is None:
            raise ModelError(f"{where}: not a dimension configured under 'dimensions'")
        spec = as_mapping(rule, where)
        only_keys(spec, where, {"at_most", "cap"})
        at_most = number(spec.get("at_most"), f"{where}.at_most", lo=0, hi=100)
        caps.append(Cap(dim, at_most, number(spec.get("cap"), f"{where}.cap", lo=0, hi=100)))
    return tuple(caps)
