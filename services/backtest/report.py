"""The backtest report: a readable table, JSON, and an HTML page with plots.

The plots are the ones a RevOps lead asks for: score distributions of
churners vs retained accounts at T-30 d, the alerts' lead-time histogram, and
the lift (cumulative gains) of the score, the recency baseline and the ceiling.
They are drawn with matplotlib's non-interactive backend and embedded as SVG,
so the page is one self-contained file that opens without network access.
"""

from __future__ import annotations

import html
import io
from typing import Any

_RANKERS = ("score", "recency", "ceiling")


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}" if pct else f"{value:.3f}"
    return str(value)


def table(result: dict[str, Any]) -> str:
    """The figures as aligned plain text."""
    lines = []
    meta = result.get("history", {})
    if meta:
        lines.append(
            f"history: {meta.get('accounts')} accounts, {meta.get('events'):,} events, "
            f"{meta.get('days')} days, {meta.get('churners')} churners "
            f"(warm-up {meta.get('warm_up_days')} d, model {meta.get('model_version')})"
        )
    lines.append(f"{'':34}{'score':>10}{'recency':>10}{'ceiling':>10}")
    for horizon, h in result["horizons"].items():
        if "auc" not in h:
            lines.append(f"T-{horizon} d: too few samples ({h})")
            continue
        lines.append(
            f"T-{horizon} d ({h['positives']} churners, {h['negatives']} retained samples)"
        )
        row = "".join(f"{_fmt(h['auc'][k]):>10}" for k in _RANKERS)
        lines.append(f"  {'ROC AUC':32}{row}")
        row = "".join(f"{_fmt(h['recall_at_far_20'][k], True):>10}" for k in _RANKERS)
        lines.append(f"  {'recall at 20% false alarms':32}{row}")
        a = h["alerts"]
        same = a["recall_at_same_far"]
        row = f"{_fmt(a['recall'], True):>10}" + "".join(
            f"{_fmt(same[k], True):>10}" for k in ("recency", "ceiling")
        )
        lines.append(f"  {f'recall, alerts >= {horizon} d ahead':32}{row}")
        lines.append(f"  {'  at alert false-alarm rate':32}{_fmt(a['false_alarm_rate'], True):>10}")
        extra = ", ".join(
            f"{k[8:]} {v:.3f}" for k, v in h["auc"].items() if k.startswith("ceiling_")
        )
        lines.append(f"  ceiling learners: {extra}")
    al = result["alerts"]
    lines.append(
        f"alerts: {al['per_account_month']:.3f} per account-month, median lead "
        f"{_fmt(al['median_lead_days'])} d, retained accounts ever alerted "
        f"{_fmt(al['retained_alerted_share'], True)}, by type {al['by_type']}"
    )
    lst = result["at_risk_list"]
    lines.append(
        f"at-risk list: precision {_fmt(lst['precision'], True)} (base rate "
        f"{_fmt(lst['base_rate'], True)}, churn within {lst['horizon_days']} d), "
        f"mean size {lst['mean_size']:.1f}"
    )
    return "\n".join(lines) + "\n"


def compact(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON record without the per-sample lists the plots use."""
    out = {k: v for k, v in result.items() if k not in ("horizons", "alerts")}
    out["horizons"] = {
        h: {k: v for k, v in body.items() if k not in ("distributions",)}
        for h, body in result["horizons"].items()
    }
    out["alerts"] = {k: v for k, v in result["alerts"].items() if k != "lead_days"}
    return out


def html_page(result: dict[str, Any], title: str = "healthscore backtest") -> str:
    """A self-contained HTML report: the table and three SVG plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: list[str] = []
    h30 = result["horizons"].get("30", {})
    if "distributions" in h30:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        bins = [x * 5 for x in range(21)]
        ax.hist(
            h30["distributions"]["retained"], bins=bins, alpha=0.6, density=True, label="retained"
        )
        ax.hist(
            h30["distributions"]["churners"], bins=bins, alpha=0.6, density=True, label="churners"
        )
        ax.set_xlabel("health score 30 days before cancellation / at snapshot")
        ax.set_ylabel("share")
        ax.legend()
        figures.append(_svg(fig, plt))
    leads = result["alerts"].get("lead_days") or []
    if leads:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(leads, bins=range(0, 95, 5))
        ax.set_xlabel("days from first risk alert to cancellation")
        ax.set_ylabel("churners")
        figures.append(_svg(fig, plt))
    if "lift" in h30:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        xs = [q / len(h30["lift"]["score"]) for q in range(1, len(h30["lift"]["score"]) + 1)]
        for name in _RANKERS:
            ax.plot(xs, h30["lift"][name], marker=".", label=name)
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
        ax.set_xlabel("share of accounts contacted (riskiest first), T-30 d")
        ax.set_ylabel("share of churners caught")
        ax.legend()
        figures.append(_svg(fig, plt))
    body = "\n".join(f"<figure>{svg}</figure>" for svg in figures)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "pre{background:#f6f6f6;padding:1em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{html.escape(table(result))}</pre>{body}"
        "</body></html>\n"
    )


def _svg(fig: Any, plt: Any) -> str:
    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
