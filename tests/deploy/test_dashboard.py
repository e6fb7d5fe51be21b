"""The Grafana dashboard is valid JSON of the expected schema, selects its data
source through a variable, and every query uses agreed metric names only, so a
rename in code or dashboard fails here instead of leaving an empty panel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.promql import ROOT, healthscore_names, unknown_names

DASHBOARD_PATH = ROOT / "deploy" / "grafana" / "dashboards" / "healthscore.json"
DASHBOARD: dict[str, Any] = json.loads(DASHBOARD_PATH.read_text())


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


PANELS = list(_panels(DASHBOARD["panels"]))
QUERY_PANELS = [p for p in PANELS if p["type"] != "row"]
EXPRS = [(p["title"], t["expr"]) for p in QUERY_PANELS for t in p["targets"]]


def test_dashboard_header() -> None:
    assert DASHBOARD["uid"] == "healthscore"
    assert 36 <= DASHBOARD["schemaVersion"] <= 41
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_panel_ids_unique_and_layout_fits() -> None:
    ids = [p["id"] for p in PANELS]
    assert len(ids) == len(set(ids))
    for panel in PANELS:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


@pytest.mark.parametrize("panel", QUERY_PANELS, ids=lambda p: p["title"])
def test_panel_queries_prometheus_through_the_variable(panel: dict[str, Any]) -> None:
    assert panel["targets"], "a panel without a query"
    for item in [panel, *panel["targets"]]:
        assert item["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    ref_ids = [t["refId"] for t in panel["targets"]]
    assert len(ref_ids) == len(set(ref_ids))


@pytest.mark.parametrize(
    ("title", "expr"), EXPRS, ids=[f"{t}:{i}" for i, (t, _) in enumerate(EXPRS)]
)
def test_panel_expr_uses_agreed_metric_names(title: str, expr: str) -> None:
    assert unknown_names(expr) == set(), f"{title}: {expr}"


@pytest.mark.parametrize(
    "metric",
    [
        "healthscore_events_consumed_total",
        "healthscore_events_rejected_total",
        "healthscore_consumer_lag",
        "healthscore_event_to_score_seconds_bucket",
        "healthscore_event_to_alert_seconds_bucket",
        "healthscore_delivery_latency_seconds_bucket",
        "healthscore_accounts",
        "healthscore_alerts_total",
        "healthscore_dunning_steps_total",
        "healthscore_deliveries_total",
        "healthscore_http_requests_total",
    ],
)
def test_dashboard_shows(metric: str) -> None:
    assert any(metric in healthscore_names(expr) for _, expr in EXPRS)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            'sum by (topic) (rate(healthscore_events_consumed_total{job="x"}[5m]))',
            {"healthscore_events_consumed_total"},
        ),
        (
            'rate(healthscore_deliveries_total{outcome=~"a|healthscore_fake"}[1m])',
            {"healthscore_deliveries_total"},
        ),
        ("healthscore:alerts:rate5m > 5 * up", {"healthscore:alerts:rate5m"}),
        (
            "histogram_quantile(0.99, sum by (le) (rate(healthscore_batch_second_bucket[5m])))",
            {"healthscore_batch_second_bucket"},
        ),
    ],
)
def test_name_extraction(expr: str, expected: set[str]) -> None:
    assert healthscore_names(expr) == expected


def test_a_renamed_metric_is_reported() -> None:
    assert unknown_names("rate(healthscore_event_consumed_total[1m])") == {
        "healthscore_event_consumed_total"
    }
