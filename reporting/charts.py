"""Charts as inline SVG, drawn by hand: no script, no font or file from anywhere, a few KB each.

Every data mark (bar, column, point, error bar) has the class `mark` and a `<title>` with its
exact value, which the browser shows on hover; the browser test counts the marks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

Formatter = Callable[[float], str]

PALETTE = (
    "#2f6db5",  # blue
    "#e8833a",  # orange
    "#3a9e6a",  # green
    "#c94f4f",  # red
    "#8a64b5",  # purple
    "#8c6d4f",  # brown
    "#d173b0",  # pink
    "#7f7f7f",  # grey
    "#b5b52f",  # olive
    "#35a9b8",  # teal
)
WIDTH = 720
LABEL_WIDTH = 220
VALUE_WIDTH = 150


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, color: str, title: str) -> str:
    return (
        f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
        f'height="{h:.1f}" fill="{color}"><title>{escape(title)}</title></rect>'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high] (at least [0, 1] for an empty range)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, tick = [], first
    while tick < high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 10))
    return ticks


def stacked_bar(segments: Sequence[tuple[str, float]], fmt: Formatter, label: str) -> str:
    """One horizontal bar split into segments, with a legend (count and share) under it."""
    total = sum(value for _, value in segments) or 1
    bar_height, legend_row = 34, 22
    body, x = [], 0.0
    shown = [(name, value, PALETTE[i % len(PALETTE)]) for i, (name, value) in enumerate(segments)]
    for name, value, color in shown:
        width = WIDTH * value / total
        if value > 0:
            body.append(_rect(x, 0, width, bar_height, color, f"{name}: {fmt(value)}"))
        x += width
    columns = 2
    for i, (name, value, color) in enumerate(shown):
        col_x = (i % columns) * (WIDTH / columns)
        row_y = bar_height + 14 + (i // columns) * legend_row
        body.append(
            f'<rect x="{col_x:.1f}" y="{row_y:.1f}" width="12" height="12" fill="{color}"/>'
        )
        share = f"{value / total * 100:.1f} %"
        body.append(_text(col_x + 18, row_y + 10, f"{name}: {fmt(value)} ({share})"))
    height = bar_height + 14 + math.ceil(len(shown) / columns) * legend_row
    return _svg(WIDTH, height, label, body)


def horizontal_bars(
    rows: Sequence[tuple[str, float, str]], fmt: Formatter, label: str, color: str = PALETTE[0]
) -> str:
    """One bar per row: its label on the left, value and a note (a rate, a share) on the right."""
    bar_height, gap = 20, 8
    peak = max((value for _, value, _ in rows), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    for i, (name, value, note) in enumerate(rows):
        y = i * (bar_height + gap)
        body.append(f"<g><title>{escape(name)}</title>")
        short = _shorten(name.removeprefix("https://").removeprefix("http://"), 30)
        body.append(_text(LABEL_WIDTH - 8, y + 14, short, anchor="end"))
        body.append("</g>")
        width = plot * value / peak
        body.append(
            _rect(LABEL_WIDTH, y, max(width, 1), bar_height, color, f"{name}: {fmt(value)}")
        )
        text = fmt(value) + (f"  {note}" if note else "")
        body.append(_text(LABEL_WIDTH + max(width, 1) + 6, y + 14, text))
    height = max(len(rows), 1) * (bar_height + gap)
    return _svg(WIDTH, height, label, body)


def columns(
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Formatter,
    label: str,
    color: str = PALETTE[0],
    label_every: int = 1,
) -> str:
    """Vertical columns over a category axis (days, hours), with a value axis and gridlines."""
    height, top, bottom, left = 200, 10, 26, 80
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    ticks = nice_ticks(min(0.0, *values) if values else 0.0, max(values, default=0) or 1)
    low, high = ticks[0], ticks[-1]
    scale = plot_h / (high - low)
    zero_y = top + (high - 0) * scale
    body = []
    for tick in ticks:
        y = top + (high - tick) * scale
        body.append(f'<line class="grid" x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(_text(left - 6, y + 4, fmt(tick), anchor="end", cls="axis"))
    slot = plot_w / max(len(values), 1)
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + slot * 0.15
        y = zero_y - max(value, 0) * scale
        body.append(_rect(x, y, slot * 0.7, abs(value) * scale, color, f"{name}: {fmt(value)}"))
        if i % label_every == 0:
            body.append(_text(x + slot * 0.35, height - 8, name, anchor="middle", cls="axis"))
    return _svg(WIDTH, height, label, body)


def intervals(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    fmt: Formatter,
    label: str,
    axis_fmt: Formatter | None = None,
) -> str:
    """A point per row with its interval as an error bar, around a zero line (no difference)."""
    row_height, top, axis = 30, 6, 24
    shown = [row for row in rows if row[1] is not None]
    values = [v for _, est, lo, hi in shown for v in (est, lo, hi) if v is not None] + [0.0]
    span = max(abs(min(values)), abs(max(values))) or 0.01
    ticks = nice_ticks(-span, span)
    low, high = ticks[0], ticks[-1]
    plot_w = WIDTH - LABEL_WIDTH - 20
    height = top + max(len(shown), 1) * row_height + axis

    def x_of(value: float) -> float:
        return LABEL_WIDTH + (value - low) / (high - low) * plot_w

    body = []
    for tick in ticks:
        x = x_of(tick)
        cls = "zero" if tick == 0 else "grid"
        body.append(
            f'<line class="{cls}" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - axis}"/>'
        )
        body.append(_text(x, height - 8, (axis_fmt or fmt)(tick), anchor="middle", cls="axis"))
    for i, (name, estimate, ci_low, ci_high) in enumerate(shown):
        y = top + i * row_height + row_height / 2
        body.append(_text(LABEL_WIDTH - 8, y + 4, _shorten(name, 30), anchor="end"))
        title = f"{name}: {fmt(estimate)}"
        if ci_low is not None and ci_high is not None:
            title += f" (95 % interval {fmt(ci_low)} to {fmt(ci_high)})"
            x1, x2 = x_of(ci_low), x_of(ci_high)
            body.append(
                f'<path class="mark errorbar" d="M{x1:.1f},{y:.1f}H{x2:.1f}'
                f"M{x1:.1f},{y - 6:.1f}V{y + 6:.1f}M{x2:.1f},{y - 6:.1f}V{y + 6:.1f}"
                f'"><title>{escape(title)}</title></path>'
            )
        body.append(
            f'<circle class="mark point" cx="{x_of(estimate):.1f}" cy="{y:.1f}" r="5">'
            f"<title>{escape(title)}</title></circle>"
        )
    return _svg(WIDTH, height, label, body)
