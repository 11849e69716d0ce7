"""Inline SVG charts for the HTML report, written by hand: no library, no external assets.

Three shapes: a line over time with its confidence band (`line_chart`), horizontal bars with
interval whiskers and a baseline (`bar_chart`), and paired before/after bars (`paired_bars`).

Invariants: every chart is one `<svg>` element with `role="img"`, an `aria-label` and a `<title>`
per mark (hover text); all text is escaped; charts scale with the page through `viewBox`; a chart
with no data says so instead of drawing empty axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""
INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
BLUE = "#2f6fdf"
BLUE_LIGHT = "#c9dbfa"
RED = "#d64545"
GREY = "#9aa5b1"


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str = ""
    highlight: bool = False


@dataclass(frozen=True)
class Pair:
    label: str
    before: float | None
    after: float | None
    note: str = ""


def _empty(width: int, height: int, label: str) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}: no data" '
            f'xmlns="http://www.w3.org/2000/svg"><text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="14" {FONT}>No data in this window</text></svg>')


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def line_chart(points: Sequence[Point], *, label: str, width: int = 720, height: int = 260,
               y_min: float | None = None, y_max: float | None = None, fmt: str = "pct") -> str:
    """Values over ordered labels, with a shaded band between low and high where given."""
    known = [p for p in points if p.value is not None]
    if not known:
        return _empty(width, height, label)
    left, right, top, bottom = 52, 30, 14, 34
    lows = [p.low if p.low is not None else p.value for p in known]
    highs = [p.high if p.high is not None else p.value for p in known]
    lo = y_min if y_min is not None else max(0.0, min(v for v in lows if v is not None) - 0.05)
    hi = y_max if y_max is not None else min(1.0, max(v for v in highs if v is not None) + 0.05)
    if hi - lo < 0.05:
        lo, hi = max(0.0, lo - 0.05), min(1.0, hi + 0.05) if fmt == "pct" else hi + 0.05
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(points) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    fmt_v = _pct if fmt == "pct" else (lambda v: f"{v:.2f}")
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}">{fmt_v(v)}</text>')
    band_top = [(x(i), y(p.high)) for i, p in enumerate(points) if p.value is not None and p.high is not None]
    band_bottom = [(x(i), y(p.low)) for i, p in enumerate(points) if p.value is not None and p.low is not None]
    if len(band_top) > 1 and len(band_top) == len(band_bottom):
        poly = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*band_top, *reversed(band_bottom)])
        parts.append(f'<polygon points="{poly}" fill="{BLUE_LIGHT}" opacity="0.6"/>')
    segment: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{BLUE}" stroke-width="2.5"/>')
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(p.value):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{BLUE}" stroke-width="2.5"/>')
    every = max(1, len(points) // 8)
    for i, p in enumerate(points):
        if p.value is not None:
            tip = f"{p.label}: {fmt_v(p.value)}" + (f" ({p.note})" if p.note else "")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="4" fill="{BLUE}">'
                         f'<title>{escape(tip)}</title></circle>')
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 10}" text-anchor="middle" fill="{MUTED}">'
                         f'{escape(p.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[Bar], *, label: str, baseline: float | None = None, width: int = 720,
              row: int = 26, label_width: int = 190) -> str:
    """Horizontal bars (rates 0..1) with whiskers for their interval and a dashed baseline."""
    if not bars:
        return _empty(width, 80, label)
    top, bottom, right = 10, 28, 60
    height = top + bottom + row * len(bars)
    highs = [b.high if b.high is not None else b.value for b in bars]
    vmax = max([*highs, baseline or 0.0, 0.01])
    vmax = min(1.0, vmax * 1.1)
    plot_w = width - label_width - right

    def x(v: float) -> float:
        return label_width + v / vmax * plot_w

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">']
    for k in range(5):
        v = vmax * k / 4
        parts.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{height - bottom}" stroke="{GRID}"/>'
                     f'<text x="{x(v):.1f}" y="{height - 10}" text-anchor="middle" fill="{MUTED}">{_pct(v)}</text>')
    for i, b in enumerate(bars):
        cy = top + i * row + row / 2
        name = b.label if len(b.label) <= 28 else b.label[:27] + "…"
        color = RED if b.highlight else BLUE
        tip = f"{b.label}: {_pct(b.value)}" + (f" ({b.note})" if b.note else "")
        parts.append(f'<text x="{label_width - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{INK}">{escape(name)}</text>'
                     f'<rect x="{label_width}" y="{cy - 8:.1f}" width="{max(1.0, x(b.value) - label_width):.1f}" height="16" '
                     f'fill="{color}" rx="2"><title>{escape(tip)}</title></rect>')
        if b.low is not None and b.high is not None:
            parts.append(f'<line x1="{x(b.low):.1f}" x2="{x(b.high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{INK}" '
                         f'stroke-width="1.5"/><line x1="{x(b.low):.1f}" x2="{x(b.low):.1f}" y1="{cy - 5:.1f}" '
                         f'y2="{cy + 5:.1f}" stroke="{INK}"/><line x1="{x(b.high):.1f}" x2="{x(b.high):.1f}" '
                         f'y1="{cy - 5:.1f}" y2="{cy + 5:.1f}" stroke="{INK}"/>')
        parts.append(f'<text x="{x(b.high if b.high is not None else b.value) + 6:.1f}" y="{cy + 4:.1f}" '
                     f'fill="{MUTED}">{_pct(b.value)}</text>')
    if baseline is not None:
        parts.append(f'<line x1="{x(baseline):.1f}" x2="{x(baseline):.1f}" y1="{top - 4}" y2="{height - bottom}" '
                     f'stroke="{INK}" stroke-dasharray="4 3"><title>overall: {_pct(baseline)}</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(pairs: Sequence[Pair], *, label: str, unit: str = "per 100 calls", width: int = 720,
                label_width: int = 220) -> str:
    """Two bars per row (before in grey, after in blue) on a shared scale, with a legend."""
    if not pairs:
        return _empty(width, 80, label)
    row, top, bottom, right = 40, 30, 24, 70
    height = top + bottom + row * len(pairs)
    vmax = max([v for p in pairs for v in (p.before, p.after) if v is not None] + [0.01]) * 1.1
    plot_w = width - label_width - right

    def w(v: float) -> float:
        return max(1.0, v / vmax * plot_w)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">',
             f'<rect x="{label_width}" y="6" width="12" height="12" fill="{GREY}"/>'
             f'<text x="{label_width + 18}" y="16" fill="{INK}">before</text>'
             f'<rect x="{label_width + 80}" y="6" width="12" height="12" fill="{BLUE}"/>'
             f'<text x="{label_width + 98}" y="16" fill="{INK}">after ({escape(unit)})</text>']
    for i, p in enumerate(pairs):
        y0 = top + i * row
        name = p.label if len(p.label) <= 30 else p.label[:29] + "…"
        parts.append(f'<text x="{label_width - 8}" y="{y0 + 20}" text-anchor="end" fill="{INK}">{escape(name)}'
                     f'<title>{escape(p.label + (" — " + p.note if p.note else ""))}</title></text>')
        for j, (value, color, word) in enumerate(((p.before, GREY, "before"), (p.after, BLUE, "after"))):
            yy = y0 + 4 + j * 16
            if value is None:
                parts.append(f'<text x="{label_width + 4}" y="{yy + 11}" fill="{MUTED}">no {word} data</text>')
                continue
            parts.append(f'<rect x="{label_width}" y="{yy}" width="{w(value):.1f}" height="13" fill="{color}" rx="2">'
                         f'<title>{escape(f"{p.label} {word}: {value:.2f} {unit}")}</title></rect>'
                         f'<text x="{label_width + w(value) + 5:.1f}" y="{yy + 11}" fill="{MUTED}">{value:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)
