"""Checks any process's /metrics text: promtool lint, and names/types/labels
against the agreed catalogue. Used by test_metrics_exposition.py; the lead adds
the API and notifier there as one line each (a callable returning the text).
"""

from __future__ import annotations

import shutil
import subprocess
from types import ModuleType

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.catalog import CATALOG

PREFIX = "healthscore_"


def promtool_check_metrics(text: str) -> tuple[int, str]:
    """Run ``promtool check metrics`` on exposition text; (exit code, output)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise FileNotFoundError("promtool")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    return result.returncode, result.stdout + result.stderr


def catalogue_problems(text: str) -> list[str]:
    """Every healthscore_ family in ``text`` must be in the catalogue with the
    same type and label names (``_created`` companions are skipped)."""
    problems: list[str] = []
    created = {f"{name.removesuffix('_total')}_created" for name in CATALOG}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith(PREFIX) or family.name in created:
            continue
        name = f"{family.name}_total" if family.type == "counter" else family.name
        spec = CATALOG.get(name)
        if spec is None:
            problems.append(f"{name}: not in the agreed metric list (tests/deploy/catalog.py)")
            continue
        if family.type != spec.kind:
            problems.append(f"{name}: type {family.type}, agreed {spec.kind}")
        for sample in family.samples:
            labels = tuple(sorted(set(sample.labels) - {"le"}))
            if labels != tuple(sorted(spec.labels)):
                problems.append(f"{name}: labels {labels}, agreed {tuple(sorted(spec.labels))}")
                break
    return problems


def touch_labelled_children(module: ModuleType) -> None:
    """Create one child per labelled metric of ``module`` (without changing any
    value) so the exposition has sample lines whose labels can be checked."""
    for value in vars(module).values():
        if isinstance(value, MetricWrapperBase) and value._labelnames:
            value.labels(*["probe"] * len(value._labelnames))


def render_module_metrics(module: ModuleType, registry: CollectorRegistry = REGISTRY) -> str:
    """What ``/metrics`` of a process using ``module``'s metrics would serve."""
    touch_labelled_children(module)
    return generate_latest(registry).decode()
