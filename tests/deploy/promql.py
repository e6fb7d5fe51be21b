"""Which healthscore series a PromQL expression references, and whether they
exist: shared by the dashboard and rule tests."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.catalog import BUILTIN_SERIES, SERIES_NAMES

ROOT = Path(__file__).resolve().parents[2]
RULES_PATH = ROOT / "deploy" / "prometheus" / "rules.yml"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Label matchers `{a="b", c=~"d"}`: their names are labels, not series.
_MATCHERS = re.compile(r"\{[^{}]*\}")


def healthscore_names(expr: str) -> set[str]:
    """Series and recording-rule names starting with ``healthscore`` in ``expr``."""
    bare = _MATCHERS.sub("", _STRING.sub('""', expr))
    return {name for name in _IDENT.findall(bare) if name.startswith("healthscore")}


def recording_rule_names() -> set[str]:
    groups = yaml.safe_load(RULES_PATH.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def known_names() -> frozenset[str]:
    """Everything an expression may reference."""
    return SERIES_NAMES | BUILTIN_SERIES | recording_rule_names()


def unknown_names(expr: str) -> set[str]:
    return healthscore_names(expr) - known_names()
