"""Shaping API models into what the pages show: words, money, percentages, charts.

Pure functions, so what a page says ("why" per row, rates as percentages) is
decided in one place and testable without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from markupsafe import Markup

from services.api.models import AccountHealthPublic, AccountSummary
from services.api.models_workspace import ScoreHistoryPublic
from services.api.webapp.charts import Guide, bar_chart, line_chart
from services.readmodel.analytics import ChurnReport, Slice

#: The default model's bands, drawn as guides on the score chart.
SCORE_GUIDES: Final = (Guide(60, "at risk below 60"), Guide(75, "healthy from 75"))


def money(cents: int | None) -> str:
    return "—" if cents is None else f"${cents / 100:,.0f}"


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def signed(value: float) -> str:
    return f"{value:+.1f}" if value else "0"


def words(name: str | None) -> str:
    return (name or "").replace("_", " ")


def why(row: AccountSummary) -> str:
    """The row's reasons in plain words, or a plain sentence when there are none."""
    if row.reasons:
        return "; ".join(row.reasons[:3])
    if row.change < 0:
        return f"score fell {abs(row.change):.0f} points"
    return "no single reason stands out"


def account_rows(items: Sequence[AccountSummary]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.account_id,
            "name": r.name or r.account_id,
            "score": f"{r.score:.0f}",
            "band": r.band,
            "change": signed(r.change),
            "days_at_risk": "—" if r.days_at_risk is None else str(r.days_at_risk),
            "arr": money(r.arr_cents),
            "plan": r.plan or "—",
            "owner": r.owner or "unassigned",
            "stage": r.stage or "—",
            "why": why(r),
        }
        for r in items
    ]


def score_chart(history: ScoreHistoryPublic) -> Markup:
    points = [(p.day, p.score) for p in history.points]
    return line_chart(points, title="Score, last 90 days", y_max=100, guides=SCORE_GUIDES,
                      css_id="score-chart")  # fmt: skip


def dimension_chart(health: AccountHealthPublic) -> Markup:
    bars = [(words(d.name), d.contribution) for d in health.dimensions]
    return bar_chart(bars, title="Contribution to the score", css_id="dimension-chart")


def churn_charts(report: ChurnReport) -> dict[str, Markup]:
    months = report.months
    return {
        "churn_rate": line_chart(
            [(m.month, None if m.churn_rate is None else m.churn_rate * 100) for m in months],
            title="Monthly churn rate (%)",
            y_max=max([m.churn_rate * 100 for m in months if m.churn_rate] + [5.0]),
            fmt=lambda v: f"{v:.1f}%",
            css_id="chart-churn-rate",
        ),
        "nrr": line_chart(
            [(m.month, None if m.nrr is None else m.nrr * 100) for m in months],
            title="Net revenue retention (%)",
            y_max=max([m.nrr * 100 for m in months if m.nrr] + [110.0]),
            fmt=lambda v: f"{v:.0f}%",
            guides=(Guide(100, "100%"),),
            css_id="chart-nrr",
        ),
        **{
            dim: _slices_chart(report.breakdowns[dim], f"Churned accounts by {dim}", dim)
            for dim in ("segment", "plan", "reason", "kind")
        },
    }


def _slices_chart(slices: Sequence[Slice], title: str, dim: str) -> Markup:
    bars = [(words(s.value), float(s.churned)) for s in slices[:12]]
    return bar_chart(bars, title=title, fmt=lambda v: f"{v:.0f}", css_id=f"chart-{dim}")


def kind_counts(report: ChurnReport) -> dict[str, int]:
    counts = {s.value: s.churned for s in report.breakdowns["kind"]}
    return {"voluntary": counts.get("voluntary", 0), "involuntary": counts.get("involuntary", 0)}
