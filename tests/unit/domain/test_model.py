"""Scoring model: normalisation kinds, the default file, readable errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from streams.domain.scoring.model import (
    DIMENSIONS,
    Bands,
    BaselineRatio,
    Linear,
    ModelError,
    load_model,
    normalise,
    parse_model,
)
from tests.unit.domain.factories import DEFAULT_MODEL_PATH, default_model, model_doc

BANDS = Bands(steps=((0, 0), (1, 25), (4, 70), (8, 100)))


@pytest.mark.parametrize(
    ("rule", "raw", "expected"),
    [
        (BANDS, -1, 0),  # below the first step: the first step's score
        (BANDS, 0, 0),
        (BANDS, 3.9, 25),
        (BANDS, 4, 70),
        (BANDS, 50, 100),
        (Linear(lo=0, hi=20), 10, 50),
        (Linear(lo=0, hi=20), -5, 0),
        (Linear(lo=0, hi=20), 25, 100),
        (Linear(lo=0, hi=12, invert=True), 3, 75),
        (Linear(lo=0, hi=12, invert=True), 20, 0),
        (BaselineRatio(recent_days=7, baseline_days=90, lo=0.2, hi=1.0), 0.6, 50),
        (BaselineRatio(recent_days=7, baseline_days=90, lo=0.2, hi=1.0), 1.7, 100),
        (BaselineRatio(recent_days=7, baseline_days=90, lo=0.2, hi=1.0), 0.1, 0),
    ],
)
def test_normalise_kinds(rule: Any, raw: float, expected: float) -> None:
    assert normalise(rule, raw) == pytest.approx(expected)


def test_default_model_loads_with_every_dimension() -> None:
    model = default_model()
    assert [d.name for d in model.dimensions] == list(DIMENSIONS)
    assert sum(model.default_weights.values()) == 100
    assert model.weights_for("free")["payment_status"] == 0
    assert model.weights_for("enterprise")["feature_depth"] == 10  # merged from default
    assert model.weights_for(None) is model.default_weights
    assert (model.alerts.threshold, model.alerts.rearm) == (60, 65)
    assert (model.bands.healthy, model.bands.at_risk) == (75, 60)


def _with(path: str, value: Any) -> dict[str, Any]:
    """A valid document with one key (dotted path) replaced; ``...`` deletes it."""
    doc = copy.deepcopy(model_doc())
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("version", ..., "version: required"),
        ("colour", "red", "model.colour: unknown key"),
        ("dimensions.usage", {}, "dimensions.usage: unknown dimension"),
        (
            "dimensions.nps.normalise.kind",
            "band",
            "dimensions.nps.normalise.kind: unknown kind 'band'",
        ),
        ("dimensions.nps.normalise.bands", [[5, 50], [0, 0]], "strictly ascending"),
        ("dimensions.nps.normalise.bands", [[0, 120]], "dimensions.nps.normalise.bands[0].score"),
        (
            "dimensions.usage_frequency.normalise.hi",
            -1,
            "usage_frequency.normalise.hi: must be greater",
        ),
        ("dimensions.usage_frequency.normalise.lo", "low", "normalise.lo: must be a number"),
        (
            "dimensions.usage_frequency.window_days",
            400,
            "usage_frequency.window_days: 400 is outside",
        ),
        ("dimensions.usage_frequency.colour", 1, "dimensions.usage_frequency.colour: unknown key"),
        (
            "dimensions.nps.normalise",
            {"kind": "baseline_ratio", "lo": 0, "hi": 1},
            "dimensions.nps.normalise.kind: baseline_ratio needs a daily series",
        ),
        ("weights.default.nps", -3, "weights.default.nps: -3 is outside"),
        (
            "weights.default.data_growth",
            5,
            "weights.default.data_growth: not a dimension configured",
        ),
        ("weights.segments", {"enterprize": {}}, "weights.segments.enterprize: unknown segment"),
        ("alerts", {"threshold": 60, "rearm": 55}, "alerts.rearm: must be above alerts.threshold"),
        ("bands", {"healthy": 50, "at_risk": 60}, "bands.at_risk: must not be above"),
        (
            "alerts",
            {"usage_decline_ratio": 0.6, "usage_decline_rearm": 0.5},
            "alerts.usage_decline_rearm: must be above alerts.usage_decline_ratio",
        ),
        ("alerts", {"usage_decline_ratio": 1.5}, "alerts.usage_decline_ratio: 1.5 is outside"),
    ],
)
def test_model_errors_name_the_bad_key(path: str, value: Any, message: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_model(_with(path, value))
    assert message in str(info.value)


def test_model_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="model: must be a mapping"):
        parse_model(["not", "a", "mapping"])


def test_load_model_reports_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "model.yaml"
    broken.write_text("version: 1\ndimensions: {nps: {normalise: {kind: nope}}}\n")
    with pytest.raises(ModelError, match=r"model\.yaml: dimensions\.nps\.normalise\.kind"):
        load_model(broken)


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read"), ("a: [1, 2", "not valid YAML")]
)
def test_load_model_file_problems(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "model.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_default_model_path_is_the_shipped_file() -> None:
    assert load_model(DEFAULT_MODEL_PATH).version == default_model().version
