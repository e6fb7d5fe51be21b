"""Inline SVG charts: a line chart and a horizontal bar chart, as pure functions.

Small and dependency-free on purpose: the pages must render without a CDN or a
JavaScript chart library, and an SVG in the HTML is also what a screenshot or a
text-based test can inspect. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Guide:
    """A horizontal reference line (e.g. the at-risk threshold)."""

    value: float
    label: str


def _num(value: float) -> str:
    return f"{value:.1f}"


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    y_max: float,
    fmt: Format = _num,
    guides: Sequence[Guide] = (),
    width: int = 640,
    height: int = 220,
    css_id: str = "",
) -> Markup:
    """Points in order (label, value or None for a gap) joined by a polyline."""
    left, right, top, bottom = 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = y_max or 1.0
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + plot_h - min(max(v / y_max, 0.0), 1.0) * plot_h

    parts = [
        f'<svg class="chart line" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"{_id(css_id)}><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">'
        f"{escape(fmt(y_max))}</text>",
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">'
        f"{escape(fmt(0))}</text>",
    ]
    for guide in guides:
        gy = y(guide.value)
        parts.append(
            f'<line class="guide" x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}"/>'
            f'<text class="guide-label" x="{width - right}" y="{gy - 3:.1f}" text-anchor="end">'
            f"{escape(guide.label)}</text>"
        )
    for segment in _segments(points):
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
        parts.append(f'<polyline class="series" points="{coords}"/>')
        parts += [
            f'<circle class="dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
            f"<title>{escape(points[i][0])}: {escape(fmt(v))}</title></circle>"
            for i, v in segment
        ]
    if points:
        parts.append(_x_label(left, top + plot_h + 18, points[0][0], "start"))
        parts.append(_x_label(width - right, top + plot_h + 18, points[-1][0], "end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: Format = _num,
    width: int = 420,
    css_id: str = "",
) -> Markup:
    """One horizontal bar per (label, value), longest = the largest value."""
    row, label_w, value_w = 22, 140, 70
    height = max(row * len(bars), row) + 4
    biggest = max((v for _, v in bars), default=0.0) or 1.0
    plot_w = width - label_w - value_w
    parts = [
        f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"{_id(css_id)}><title>{escape(title)}</title>'
    ]
    if not bars:
        parts.append(f'<text class="empty" x="0" y="15">{escape("No data in this range")}</text>')
    for i, (label, value) in enumerate(bars):
        top = i * row + 2
        bar_w = max(value / biggest * plot_w, 1.0 if value else 0.0)
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value:g}">'
            f'<text class="bar-label" x="{label_w - 6}" y="{top + 14}" text-anchor="end">'
            f"{escape(_clip(label, 22))}</text>"
            f'<rect x="{label_w}" y="{top + 3}" width="{bar_w:.1f}" height="{row - 8}"/>'
            f'<text class="bar-value" x="{label_w + bar_w + 6:.1f}" y="{top + 14}">'
            f"{escape(fmt(value))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped)


def _segments(
    points: Sequence[tuple[str, float | None]],
) -> list[list[tuple[int, float]]]:
    """Runs of consecutive points with a value (a None breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, (_, value) in enumerate(points):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, value))
    return [r for r in runs if r]


def _x_label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text class="tick" x="{x}" y="{y}" text-anchor="{anchor}">{escape(text)}</text>'


def _id(css_id: str) -> str:
    return f' id="{escape(css_id)}"' if css_id else ""


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"
