"""Load the scoring model and the dunning policies from one YAML file.

One file (``HEALTHSCORE_MODEL``) so a what-if replay swaps everything that
decides outputs at once. The ``dunning:`` section is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from streams.domain.dunning.policy import DunningPolicies, parse_policies
from streams.domain.scoring.model import ModelError, ScoringModel, parse_model

DEFAULT_MODEL_PATH = Path(__file__).parent.parent / "domain" / "default_model.yaml"


@dataclass(frozen=True, slots=True)
class Rules:
    model: ScoringModel
    policies: DunningPolicies


def load_rules(path: Path | str | None = None) -> Rules:
    source = Path(path) if path is not None else DEFAULT_MODEL_PATH
    try:
        doc: Any = yaml.safe_load(source.read_text())
    except OSError as exc:
        raise ModelError(f"cannot read model file {source}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ModelError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ModelError(f"{source}: the model must be a mapping")
    dunning = doc.pop("dunning", None) or {}
    try:
        policies = parse_policies(dunning)
    except ValueError as exc:
        raise ModelError(f"{source}: dunning: {exc}") from None
    return Rules(parse_model(doc), policies)
