"""docs/model.md explains every key the scoring model file can hold, so the page
cannot fall behind the file: each key of the default model (at any depth), each
normaliser ``kind`` it uses, and each field of the optional ``dunning:`` policy
must appear on the page as inline code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.domain.dunning.policy import DunningPolicy
from streams.processing.rules import DEFAULT_MODEL_PATH

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "model.md").read_text()


def keys(doc: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, key) of every mapping key, and every normaliser ``kind`` value."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, str(key)
            if key == "kind":
                yield where, str(value)
            yield from keys(value, where)


MODEL_KEYS = sorted(set(keys(yaml.safe_load(DEFAULT_MODEL_PATH.read_text()))))
DUNNING_KEYS = ["dunning", "default", "segments", *(f.name for f in fields(DunningPolicy))]


def test_the_walk_sees_nested_keys() -> None:
    assert ("dimensions.support_load.priority_weights.urgent", "urgent") in MODEL_KEYS
    assert ("dimensions.data_growth.normalise.kind", "baseline_ratio") in MODEL_KEYS


@pytest.mark.parametrize(("where", "key"), MODEL_KEYS, ids=[w for w, _ in MODEL_KEYS])
def test_every_model_key_is_explained(where: str, key: str) -> None:
    assert f"`{key}`" in PAGE, f"docs/model.md does not mention {where}"


@pytest.mark.parametrize("key", DUNNING_KEYS)
def test_every_dunning_policy_key_is_explained(key: str) -> None:
    assert f"`{key}`" in PAGE, f"docs/model.md does not mention dunning key {key}"
