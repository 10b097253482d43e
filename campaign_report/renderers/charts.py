"""One chart vocabulary for both documents: ChartSpec (data + labels) -> a drawing for the brief here, and native
python-pptx charts in renderers/deck/charts.py, both drawn by the same rules:

- the value axis at the bottom (left for columns and lines), clean ticks from one scale (``axis_scale``),
  bars from zero, the unit in the axis title;
- values labelled at the bar ends, bars in the order the section sorted them;
- the accent colour for what the title talks about (treatment, the chosen model, the promo day), greys
  for the rest (control, the other models, placebo days);
- a legend only with several series, above the plot, in series order.

The brief's drawing is written directly in points (text and bars as positioned HTML boxes, lines in an SVG
layer, see _Canvas): a chart takes about a millisecond, and its text stays text in the PDF at exactly the
size set here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from campaign_report.renderers.textmetrics import text_width, wrap

ACCENT = "#1F4E79"
ACCENT_LIGHT = "#7FA7CE"
GREY = "#A6A6A6"
GREY_DARK = "#6E6E6E"
TEXT = "#222222"
MUTED = "#666666"
GRID = "#E3E3E3"
AXIS = "#8C8C8C"
FONT = "Liberation Sans, Arial, DejaVu Sans"
LABEL_PT = 8.5  # tick labels, category names, data labels: >= 8 pt at print size (the brief prints 1:1)
TITLE_PT = 9.5
SOURCE_PT = 8
WIDTH_PT = 504.0  # the brief's text width: A4 minus 16 mm margins


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    err_minus: tuple[float, ...] | None = None  # distances below the value (for CI whiskers)
    err_plus: tuple[float, ...] | None = None
    # Points that cannot be told from noise (their interval holds zero): drawn grey in every chart, so that
    # "grey = not distinguishable from no effect" holds wherever the documents say it.
    muted: tuple[bool, ...] | None = None


@dataclass(frozen=True)
class ChartSpec:
    key: str
    kind: str  # "column" | "bar" (horizontal) | "line"
    title: str  # states what is measured and its unit
    value_title: str  # the value axis title, with its unit
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    source: str
    category_title: str = ""
    decimals: int = 1  # of the data labels
    decimal_mark: str = ","
    highlight: tuple[str, ...] = ()  # categories in the accent colour (one series); the rest grey
    shades: bool = False  # several series of one kind (treatments): shades of the accent, not accent + grey
    whiskers: str = "ci"  # what the error bars are: "ci" (a confidence interval) or "std" (a spread across folds)


def series_color(spec: ChartSpec, index: int) -> str:
    """The first series in the accent, the others grey (or lighter accents when all are treatments)."""
    if index == 0:
        return ACCENT
    return (ACCENT_LIGHT, GREY_DARK)[(index - 1) % 2] if spec.shades else (GREY, GREY_DARK)[(index - 1) % 2]


def point_colors(spec: ChartSpec, index: int) -> list[str]:
    """A colour per bar: highlighted categories in the accent, the rest grey, when the spec names any; a
    point that cannot be told from noise grey."""
    base = series_color(spec, index)
    muted = spec.series[index].muted or (False,) * len(spec.categories)
    if not spec.highlight or len(spec.series) > 1:
        return [GREY if m else base for m in muted]
    return [ACCENT if c in spec.highlight and not m else GREY for c, m in zip(spec.categories, muted, strict=True)]


def format_value(value: float, decimals: int, decimal_mark: str = ",") -> str:
    """A number with a fixed count of decimals, the locale's decimal mark and a true minus sign."""
    text = f"{value:,.{decimals}f}"
    if decimal_mark == ",":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "−")


def tick_decimals(step: float) -> int:
    """As few decimals as the tick step needs: 20 -> 0, 2.5 -> 1, 0.05 -> 2."""
    return next((d for d in range(6) if abs(round(step, d) - step) < step * 1e-6), 6)


def axis_scale(spec: ChartSpec, target: int = 5) -> tuple[float, float, float]:
    """(minimum, maximum, step) of the value axis: clean steps (1, 2, 2.5, 5 × 10^n) spanning the values and
    their whiskers; bars and columns always include zero."""
    lows, highs = [], []
    for s in spec.series:
        minus = s.err_minus or (0.0,) * len(s.values)
        plus = s.err_plus or (0.0,) * len(s.values)
        for v, m, p in zip(s.values, minus, plus, strict=True):
            if math.isfinite(v):
                lows.append(v - (m if math.isfinite(m) else 0.0))
                highs.append(v + (p if math.isfinite(p) else 0.0))
    lo, hi = (min(lows), max(highs)) if lows else (0.0, 1.0)
    if spec.kind != "line":
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = lo + 1.0
    raw = (hi - lo) / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


ASCENT = 0.8465  # Liberation Sans: the baseline's distance below the top of a line box at line-height 1, in em


class _Canvas:
    """Positioned boxes for the brief: text as absolutely placed HTML, lines, bars and points in one SVG layer
    without text. WeasyPrint lays out HTML text in well under a millisecond a label, while every
    SVG <text> costs it several (a Pango layout each): ten charts drawn as SVG took over a second."""

    def __init__(self) -> None:
        self.boxes: list[str] = []
        self.vectors: list[str] = []
        self.texts: list[str] = []  # the same text as SVG <text>, for the web page (report.html), which scales

    def text(self, x: float, y: float, text: str, size: float = LABEL_PT, anchor: str = "start",
             color: str = TEXT, bold: bool = False, rotate: bool = False) -> None:
        """Text whose baseline starts (or ends, or is centred) at x, y."""
        width = text_width(text, size, bold) + 2
        weight = "font-weight:bold;" if bold else ""
        if rotate:  # reads upwards, centred on y, baseline at x
            place = f"left:{x - ASCENT * size:.1f}pt;top:{y + width / 2:.1f}pt;transform:rotate(-90deg);" \
                    "transform-origin:0 0;"
        else:
            left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
            place = f"left:{left:.1f}pt;top:{y - ASCENT * size:.1f}pt;width:{width:.1f}pt;text-align:" + \
                {"start": "left", "middle": "center", "end": "right"}[anchor] + ";"
        self.boxes.append(f'<div class="t" style="{place}font-size:{size}pt;color:{color};{weight}">'
                          f"{escape(text)}</div>")
        turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
        heavy = ' font-weight="bold"' if bold else ""
        self.texts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{color}"{heavy} '
                          f'text-anchor="{"middle" if rotate else anchor}"{turn}>{escape(text)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        """A filled rectangle in the SVG layer, drawn in call order (grid, bars, then whiskers over them)."""
        self.vectors.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
                            f'fill="{color}"/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = AXIS, width: float = 0.8) -> None:
        self.vectors.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                            f'stroke-width="{width}"/>')

    def svg(self, width: float, height: float) -> str:
        """One scalable SVG (text included): as wide as its container up to its natural width."""
        return (f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
                f'style="width:100%;max-width:{width:.0f}pt;height:auto" font-family="{FONT}" role="img">'
                + "".join(self.vectors) + "".join(self.texts) + "</svg>")

    def document(self, width: float, height: float) -> str:
        layer = (f'<svg class="v" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
                 f'viewBox="0 0 {width:.0f} {height:.0f}">' + "".join(self.vectors) + "</svg>")
        return (f'<div class="chart-canvas" style="width:{width:.0f}pt;height:{height:.0f}pt">' + layer
                + "".join(self.boxes) + "</div>")


def _header(canvas: _Canvas, spec: ChartSpec, width: float) -> float:
    """Title lines and, for several series, the legend in series order; returns the y below them."""
    y = 0.0
    for line in wrap(spec.title, width, TITLE_PT, bold=True):
        y += TITLE_PT * 1.25
        canvas.text(0, y, line, TITLE_PT, bold=True)
    if len(spec.series) > 1:
        y += LABEL_PT * 1.6
        x = 0.0
        for i, s in enumerate(spec.series):
            canvas.rect(x, y - LABEL_PT * 0.8, LABEL_PT * 0.9, LABEL_PT * 0.9, series_color(spec, i))
            canvas.text(x + LABEL_PT * 1.3, y, s.name)
            x += LABEL_PT * 1.3 + text_width(s.name, LABEL_PT) + 14
    return y + LABEL_PT * 0.9


def _footer(canvas: _Canvas, spec: ChartSpec, y: float, width: float) -> float:
    for line in wrap(spec.source, width, SOURCE_PT):
        y += SOURCE_PT * 1.25
        canvas.text(0, y, line, SOURCE_PT, color=MUTED)
    return y + 3


def _errors(s: Series, i: int) -> tuple[float, float]:
    minus = s.err_minus[i] if s.err_minus is not None and math.isfinite(s.err_minus[i]) else 0.0
    plus = s.err_plus[i] if s.err_plus is not None and math.isfinite(s.err_plus[i]) else 0.0
    return minus, plus


def _bar_chart(spec: ChartSpec, width: float) -> tuple[_Canvas, float]:
    """Horizontal bars: category names on the left (wrapped), value axis at the bottom."""
    canvas = _Canvas()
    y0 = _header(canvas, spec, width)
    lo, hi, step = axis_scale(spec)
    decimals = tick_decimals(step)
    labels = [wrap(c, width * 0.3, LABEL_PT) for c in spec.categories]
    label_w = max((text_width(line, LABEL_PT) for lines in labels for line in lines), default=0.0)
    value_w = max((text_width(format_value(v, spec.decimals, spec.decimal_mark), LABEL_PT)
                   for s in spec.series for v in s.values), default=0.0) + 4
    x0 = label_w + 8 + (value_w if lo < 0 else 0)
    x1 = width - value_w - 2
    scale = (x1 - x0) / (hi - lo)

    def x(v: float) -> float:
        return x0 + (v - lo) * scale

    n = len(spec.series)
    bar_h = 11.0 if n > 1 else 13.0
    y = y0 + 4
    rows = []
    for lines in labels:
        group_h = max(n * bar_h + (n - 1) * 1.5, len(lines) * LABEL_PT * 1.2) + 7
        rows.append((y, group_h))
        y += group_h
    plot_bottom = y
    tick = lo
    while tick <= hi + step * 1e-6:
        canvas.line(x(tick), y0 + 2, x(tick), plot_bottom, AXIS if abs(tick) < step * 1e-6 else GRID,
                 0.8 if abs(tick) < step * 1e-6 else 0.5)
        canvas.text(x(tick), plot_bottom + LABEL_PT + 3, format_value(tick, decimals, spec.decimal_mark),
                 anchor="middle")
        tick += step
    canvas.line(x0, plot_bottom, x1, plot_bottom)
    for (top, group_h), lines in zip(rows, labels, strict=True):
        first = top + group_h / 2 - (len(lines) - 1) * LABEL_PT * 0.6 + LABEL_PT * 0.35
        for k, line in enumerate(lines):
            canvas.text(label_w, first + k * LABEL_PT * 1.2, line, anchor="end")
    for si, s in enumerate(spec.series):
        colors = point_colors(spec, si)
        for ci, v in enumerate(s.values):
            if not math.isfinite(v):
                continue
            top, group_h = rows[ci]
            bar_top = top + (group_h - n * bar_h - (n - 1) * 1.5) / 2 + si * (bar_h + 1.5)
            canvas.rect(min(x(0), x(v)), bar_top, abs(x(v) - x(0)), bar_h, colors[ci])
            minus, plus = _errors(s, ci)
            mid = bar_top + bar_h / 2
            if minus or plus:
                canvas.line(x(v - minus), mid, x(v + plus), mid, TEXT, 0.9)
                for end in (v - minus, v + plus):
                    canvas.line(x(end), mid - 3, x(end), mid + 3, TEXT, 0.9)
            label = format_value(v, spec.decimals, spec.decimal_mark)
            if v >= 0:
                canvas.text(x(v + plus) + 3, mid + LABEL_PT * 0.35, label)
            else:
                canvas.text(x(v - minus) - 3, mid + LABEL_PT * 0.35, label, anchor="end")
    y = plot_bottom + LABEL_PT * 2.6
    canvas.text((x0 + x1) / 2, y, spec.value_title, anchor="middle", color=MUTED)
    return canvas, _footer(canvas, spec, y + 2, width)


def _column_chart(spec: ChartSpec, width: float, plot_h: float = 150.0) -> tuple[_Canvas, float]:
    """Columns or lines over categories: value axis on the left, category names below (wrapped)."""
    canvas = _Canvas()
    y0 = _header(canvas, spec, width) + 4
    lo, hi, step = axis_scale(spec)
    decimals = tick_decimals(step)
    ticks = [lo + i * step for i in range(round((hi - lo) / step) + 1)]
    tick_w = max(text_width(format_value(t, decimals, spec.decimal_mark), LABEL_PT) for t in ticks)
    x0, x1 = LABEL_PT * 1.6 + tick_w + 6, width - 4
    slot = (x1 - x0) / max(len(spec.categories), 1)
    y1 = y0 + plot_h

    def y(v: float) -> float:
        return y1 - (v - lo) / (hi - lo) * plot_h

    for t in ticks:
        zero = abs(t) < step * 1e-6
        canvas.line(x0, y(t), x1, y(t), AXIS if zero and spec.kind == "column" else GRID, 0.8 if zero else 0.5)
        canvas.text(x0 - 4, y(t) + LABEL_PT * 0.35, format_value(t, decimals, spec.decimal_mark), anchor="end")
    canvas.line(x0, y1, x1, y1)
    canvas.text(LABEL_PT, (y0 + y1) / 2, spec.value_title, anchor="middle", color=MUTED, rotate=True)
    every = max(1, math.ceil(len(spec.categories) * 30 / (x1 - x0)))  # thin out crowded category names
    label_rows = 1
    for ci, category in enumerate(spec.categories):
        if ci % every:
            continue
        lines = wrap(category, slot * every * 0.95, LABEL_PT)
        label_rows = max(label_rows, len(lines))
        for k, line in enumerate(lines):
            canvas.text(x0 + slot * (ci + 0.5), y1 + LABEL_PT * (1.4 + 1.2 * k), line, anchor="middle")
    n = len(spec.series)
    group = slot * (0.7 if n > 1 else 0.55)
    for si, s in enumerate(spec.series):
        colors = point_colors(spec, si)
        points = []
        for ci, v in enumerate(s.values):
            if not math.isfinite(v):
                continue
            minus, plus = _errors(s, ci)
            if spec.kind == "line":
                cx = x0 + slot * (ci + 0.5)
            else:
                cx = x0 + slot * ci + (slot - group) / 2 + group / n * (si + 0.5)
                canvas.rect(cx - group / n * 0.45, min(y(0), y(v)), group / n * 0.9, abs(y(v) - y(0)), colors[ci])
                label = format_value(v, spec.decimals, spec.decimal_mark)
                if v >= 0:
                    canvas.text(cx, y(v + plus) - 3, label, anchor="middle")
                else:
                    canvas.text(cx, y(v - minus) + LABEL_PT + 2, label, anchor="middle")
            points.append((cx, y(v)))
            if minus or plus:
                canvas.line(cx, y(v - minus), cx, y(v + plus), TEXT, 0.9)
                for end in (v - minus, v + plus):
                    canvas.line(cx - 3, y(end), cx + 3, y(end), TEXT, 0.9)
        if spec.kind == "line" and points:
            color = series_color(spec, si)
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            canvas.vectors.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
            canvas.vectors.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.4" fill="{color}"/>' for px, py in points)
    bottom = y1 + LABEL_PT * (1.4 + 1.2 * label_rows)
    if spec.category_title:
        bottom += LABEL_PT * 0.6
        canvas.text((x0 + x1) / 2, bottom, spec.category_title, anchor="middle", color=MUTED)
    return canvas, _footer(canvas, spec, bottom + 2, width)


def render_chart(spec: ChartSpec, width_pt: float = WIDTH_PT, scalable: bool = False) -> str:
    """The chart as an HTML fragment: for the brief, in points at its natural width (the text width); with
    `scalable`, one SVG that shrinks with the page (report.html on a phone)."""
    canvas, height = _bar_chart(spec, width_pt) if spec.kind == "bar" else _column_chart(spec, width_pt)
    return canvas.svg(width_pt, height) if scalable else canvas.document(width_pt, height)


def percent_points(values: list[float]) -> tuple[float, ...]:
    """Shares as chart values in percentage points; a missing value is drawn as zero."""
    return tuple(v * 100 if math.isfinite(v) else 0.0 for v in values)
