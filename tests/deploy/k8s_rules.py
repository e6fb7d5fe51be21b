"""Render deploy/k8s/prometheusrule.yaml from deploy/prometheus/rules.yml.

The Prometheus Operator wants the rule groups wrapped in a PrometheusRule
object; rules.yml stays the one source and test_k8s.py fails when the copy
drifts. Regenerate with:

    python -m tests.deploy.k8s_rules > deploy/k8s/prometheusrule.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
HEADER = (
    "# GENERATED from deploy/prometheus/rules.yml: do not edit.\n"
    "# Regenerate: python -m tests.deploy.k8s_rules > deploy/k8s/prometheusrule.yaml\n"
)


def prometheus_rule() -> dict[str, Any]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "healthscore", "labels": {"app.kubernetes.io/name": "healthscore"}},
        "spec": {"groups": groups},
    }


def render() -> str:
    return HEADER + yaml.safe_dump(prometheus_rule(), sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(render())
