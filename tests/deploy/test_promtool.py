"""Prometheus files pass promtool: rules syntax (rules.yml and the k8s
PrometheusRule's copy), rule unit tests (tests/deploy/rules_test.yml), the
compose scrape config and the config that services/stack/prometheus.py
generates. Skips without promtool (Debian ``prometheus``, which ``.ci/run``
installs); the name and runbook checks at the bottom always run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.stack.prometheus import DEFAULT_RULES, ScrapeTarget, render_config
from tests.deploy.promql import ROOT, RULES_PATH, unknown_names

#: Every alert's ``runbook_url`` is this plus ``<alert name>.md``: the page in the
#: repository's docs/runbooks/, as a browser reaches it from an alert notification.
RUNBOOK_BASE = "https://github.com/healthscore/healthscore/blob/main/docs/runbooks/"
RUNBOOKS = ROOT / "docs" / "runbooks"
K8S_RULE = ROOT / "deploy" / "k8s" / "prometheusrule.yaml"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not on PATH (Debian package prometheus; .ci/run installs it)",
)


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


@needs_promtool
@pytest.mark.parametrize(
    "args",
    [
        ("check", "rules", "deploy/prometheus/rules.yml"),
        ("test", "rules", "tests/deploy/rules_test.yml"),
        ("check", "config", "deploy/prometheus/prometheus.yml"),
    ],
    ids=["check-rules", "test-rules", "check-compose-config"],
)
def test_promtool_accepts(args: tuple[str, ...]) -> None:
    result = _promtool(*args)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_generated_stack_config(tmp_path: Path) -> None:
    config = render_config(
        [
            ScrapeTarget("healthscore-worker", "127.0.0.1:9101"),
            ScrapeTarget("healthscore-api", "127.0.0.1:8000"),
        ],
        rule_files=[DEFAULT_RULES],
        scrape_interval=1.0,
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = _promtool("check", "config", path)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_k8s_prometheusrule(tmp_path: Path) -> None:
    """The Operator loads spec.groups: the same rule-file format promtool checks."""
    groups = tmp_path / "k8s-rules.yml"
    groups.write_text(
        yaml.safe_dump({"groups": yaml.safe_load(K8S_RULE.read_text())["spec"]["groups"]})
    )
    result = _promtool("check", "rules", groups)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text(RULES_PATH.read_text().replace("> 0.10", "> > 0.10"))
    assert _promtool("check", "rules", broken).returncode != 0


def _rules(groups: list[dict[str, Any]] | None = None) -> list[dict[str, object]]:
    groups = groups if groups is not None else yaml.safe_load(RULES_PATH.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> list[tuple[str, dict[str, object]]]:
    """(where, rule) for every alert of rules.yml and of the k8s PrometheusRule."""
    k8s = yaml.safe_load(K8S_RULE.read_text())["spec"]["groups"]
    return [
        (where, rule)
        for where, rules in (("rules.yml", _rules()), ("prometheusrule.yaml", _rules(k8s)))
        for rule in rules
        if "alert" in rule
    ]


@pytest.mark.parametrize(
    ("where", "rule"), _alerts(), ids=lambda x: x if isinstance(x, str) else str(x["alert"])
)
def test_alert_links_its_runbook_in_docs(where: str, rule: dict[str, object]) -> None:
    annotations = rule["annotations"]
    assert isinstance(annotations, dict)
    url = str(annotations.get("runbook_url", ""))

    assert url == f"{RUNBOOK_BASE}{rule['alert']}.md", f"{where}: runbook_url"
    page = RUNBOOKS / url.removeprefix(RUNBOOK_BASE)
    assert page.is_file(), f"{where}: {url} has no docs/runbooks/{page.name}"
    assert page.read_text().startswith(f"# {rule['alert']}\n")


def test_every_runbook_belongs_to_an_alert() -> None:
    """No runbook outlives its rule (a renamed alert would leave a dead page)."""
    alerts = {str(rule["alert"]) for _, rule in _alerts()}
    assert {page.stem for page in RUNBOOKS.glob("*.md")} == alerts


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: str(r.get("alert") or r.get("record")))
def test_rule_references_only_agreed_metrics(rule: dict[str, object]) -> None:
    assert unknown_names(str(rule["expr"])) == set()


@pytest.mark.parametrize(
    "rule", [r for r in _rules() if "alert" in r], ids=lambda r: str(r["alert"])
)
def test_alert_has_for_severity_and_annotations(rule: dict[str, object]) -> None:
    assert rule.get("for"), "every alert waits (for:) before firing"
    labels = rule["labels"]
    annotations = rule["annotations"]
    assert isinstance(labels, dict) and labels.get("severity") in {"warning", "critical"}
    assert isinstance(annotations, dict) and {"summary", "description"} <= annotations.keys()


@pytest.mark.parametrize(
    "alert",
    [
        "HealthscoreConsumerLagGrowing",
        "HealthscoreDeadLetters",
        "HealthscoreDeliveryFailureRatioHigh",
        "HealthscoreNoEventsConsumed",
        "HealthscoreAlertStorm",
        "HealthscoreEventToAlertLatencyHigh",
    ],
)
def test_required_alert_exists(alert: str) -> None:
    assert alert in {r.get("alert") for r in _rules()}
