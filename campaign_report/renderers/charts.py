"""One chart vocabulary for both documents: ChartSpec (data + labels) -> SVG for the PDF here, and native
python-pptx charts in renderers/pptx.py. One palette, titles and units on every chart, bars from zero.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

PALETTE = ("#1F4E79", "#E07B39", "#8AA8C8", "#5B8C5A", "#B04A5A", "#7F7F7F")
FONT = "DejaVu Sans"
TEXT = "#222222"
GRID = "#D9D9D9"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    err_minus: tuple[float, ...] | None = None  # distances below the value (for CI whiskers)
    err_plus: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ChartSpec:
    key: str
    kind: str  # "column" | "bar" (horizontal) | "line"
    title: str
    value_title: str  # the value axis title, with its unit
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    source: str
    category_title: str = ""
    decimals: int = 1
    decimal_mark: str = ","


def _fmt(spec: ChartSpec, value: float) -> str:
    return f"{value:.{spec.decimals}f}".replace(".", spec.decimal_mark).replace("-", "−")


def render_svg(spec: ChartSpec, width_in: float = 4.2, height_in: float = 2.5) -> str:
    """The chart as an SVG string (text kept as text, font named explicitly)."""
    plt.rcParams.update({"font.family": FONT, "font.size": 8.5, "svg.fonttype": "none",
                         "axes.edgecolor": GRID, "axes.labelcolor": TEXT, "xtick.color": TEXT,
                         "ytick.color": TEXT})
    n_cat = len(spec.categories)
    if spec.kind == "bar":
        height_in = max(height_in, 0.9 + 0.22 * n_cat * max(len(spec.series), 1))
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    labels = [textwrap.fill(c, 22 if spec.kind == "bar" else 14) for c in spec.categories]
    k = len(spec.series)
    width = 0.8 / max(k, 1)
    positions = list(range(n_cat))
    for i, s in enumerate(spec.series):
        color = PALETTE[i % len(PALETTE)]
        err = None
        if s.err_minus is not None and s.err_plus is not None:
            err = [list(s.err_minus), list(s.err_plus)]
        if spec.kind == "line":
            ax.plot(positions, s.values, marker="o", color=color, label=s.name, linewidth=2)
            if err:
                ax.errorbar(positions, s.values, yerr=err, fmt="none", ecolor=TEXT, capsize=3)
            continue
        offs = [p - 0.4 + width * (i + 0.5) for p in positions]
        if spec.kind == "bar":
            bars = ax.barh(offs, s.values, height=width * 0.9, color=color, label=s.name, xerr=err,
                           error_kw={"ecolor": TEXT, "capsize": 3, "elinewidth": 1})
        else:
            bars = ax.bar(offs, s.values, width=width * 0.9, color=color, label=s.name, yerr=err,
                          error_kw={"ecolor": TEXT, "capsize": 3, "elinewidth": 1})
        if err is None:
            ax.bar_label(bars, labels=[_fmt(spec, v) for v in s.values], padding=2, fontsize=7.5, color=TEXT)
    value_axis = ax.xaxis if spec.kind == "bar" else ax.yaxis
    value_axis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(spec, v)))
    if spec.kind == "bar":
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.set_xlabel(spec.value_title)
        ax.axvline(0, color="#888888", linewidth=0.8)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        lo, hi = ax.get_xlim()
        room = 0.12 * (hi - lo) if lo < 0 else 0.0  # a negative bar's label must not reach the category names
        ax.set_xlim(min(lo, 0) - room, max(hi, 0) * 1.08 if hi > 0 else hi)
    else:
        ax.set_xticks(positions, labels)
        ax.set_ylabel(spec.value_title)
        if spec.category_title:
            ax.set_xlabel(spec.category_title)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        if spec.kind == "column":
            ax.axhline(0, color="#888888", linewidth=0.8)
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, 0), max(hi, 0) * 1.1 if hi > 0 else hi)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(textwrap.fill(spec.title, 52), loc="left", fontsize=9.5, fontweight="bold", color=TEXT)
    if k > 1:
        ax.legend(frameon=False, fontsize=8, loc="best")
    fig.text(0.01, 0.005, textwrap.fill(spec.source, 80), fontsize=6, color="#666666", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def percent_points(values: list[float]) -> tuple[float, ...]:
    """Shares as chart values in percentage points; a missing value is drawn as zero."""
    return tuple(v * 100 if math.isfinite(v) else 0.0 for v in values)
