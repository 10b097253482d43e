"""Native, editable charts drawn by the same rules as the brief's SVG (renderers/charts.py): one axis scale,
the accent colour for what the title talks about, values on the bars, the legend above the plot in series
order, the value axis at the bottom of horizontal bars and the category names left of any negative bar.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from lxml import etree
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_AXIS_CROSSES, XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.chart import XL_TICK_LABEL_POSITION as TICKS
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt
from xlsxwriter import Workbook

from campaign_report.renderers.charts import (
    ChartSpec,
    axis_scale,
    format_value,
    point_colors,
    series_color,
    tick_decimals,
)
from campaign_report.renderers.textmetrics import text_width

KINDS = {"column": XL_CHART_TYPE.COLUMN_CLUSTERED, "bar": XL_CHART_TYPE.BAR_CLUSTERED,
         "line": XL_CHART_TYPE.LINE_MARKERS}
LABEL_PT = 12
GRID = RGBColor(0xE3, 0xE3, 0xE3)
MUTED = RGBColor(0x59, 0x59, 0x59)


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#"))


def _number_format(decimals: int, decimal_mark: str = ",") -> str:
    """An Excel number format in the documents' locale, whatever the viewer's: [$-419] (Russian: "1 234,5")
    or [$-409] (US English: "1,234.5"). Without it a Russian deck shows "18.8" on an English machine."""
    locale = "[$-419]" if decimal_mark == "," else "[$-409]"
    number = "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
    return f'{locale}{number};{locale}"−"{number}'  # a true minus sign, as in the text beside the chart


def _error_bars(series_xml, minus: tuple[float, ...], plus: tuple[float, ...], direction: str | None) -> None:
    def lit(tag: str, values: tuple[float, ...]) -> None:
        num = etree.SubElement(etree.SubElement(err, qn(f"c:{tag}")), qn("c:numLit"))
        etree.SubElement(num, qn("c:formatCode")).text = "General"
        etree.SubElement(num, qn("c:ptCount")).set("val", str(len(values)))
        for i, v in enumerate(values):
            pt = etree.SubElement(num, qn("c:pt"))
            pt.set("idx", str(i))
            etree.SubElement(pt, qn("c:v")).text = repr(float(v) if math.isfinite(v) else 0.0)

    err = etree.Element(qn("c:errBars"))
    if direction:
        etree.SubElement(err, qn("c:errDir")).set("val", direction)
    etree.SubElement(err, qn("c:errBarType")).set("val", "both")
    etree.SubElement(err, qn("c:errValType")).set("val", "cust")
    etree.SubElement(err, qn("c:noEndCap")).set("val", "0")
    lit("plus", plus)
    lit("minus", minus)
    line = etree.SubElement(etree.SubElement(err, qn("c:spPr")), qn("a:ln"))
    line.set("w", "12700")
    etree.SubElement(etree.SubElement(line, qn("a:solidFill")), qn("a:srgbClr")).set("val", "222222")
    anchor = series_xml.find(qn("c:cat"))
    if anchor is None:
        anchor = series_xml.find(qn("c:val"))
    anchor.addprevious(err)


def _axis_text(axis, size: float = LABEL_PT) -> None:
    axis.tick_labels.font.size = Pt(size)
    axis.format.line.color.rgb = _rgb("#8C8C8C")


class _TextWorkbookWriter(CategoryWorkbookWriter):
    """The chart's embedded workbook with every string written as text: XlsxWriter turns a string that
    starts with "=" into a formula, and a group or segment name from the data (`=HYPERLINK(…)`) must stay a
    name in the workbook PowerPoint opens for "Edit data"."""

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        workbook = Workbook(xlsx_file, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class _TextChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> CategoryWorkbookWriter:
        writer = self.__dict__.get("_text_writer")
        if writer is None:
            writer = self.__dict__["_text_writer"] = _TextWorkbookWriter(self)
        return writer


def _drawn_order(spec: ChartSpec) -> tuple[list[int], list[int]]:
    """The order categories and series are written in. Horizontal bars are drawn bottom-up and their legend lists
    the series last-first (PowerPoint and LibreOffice alike, to match that drawing); so categories and series are
    written in reverse: the first category is on top, and within it the first series, as the legend lists them.
    (Reversing the category axis instead put the first category on top but left the legend the other way round.)"""
    categories, series = list(range(len(spec.categories))), list(range(len(spec.series)))
    if spec.kind == "bar":
        return categories[::-1], series[::-1]
    return categories, series


def add_chart(slide, spec: ChartSpec, left: int, top: int, width: int, height: int):
    """A native chart with its title (unit), value-axis title, values on bars and CI whiskers."""
    category_order, series_order = _drawn_order(spec)
    data = _TextChartData()
    data.categories = [spec.categories[k] for k in category_order]
    for i in series_order:
        values = spec.series[i].values
        data.add_series(spec.series[i].name, [round(values[k], 6) if math.isfinite(values[k]) else None
                                              for k in category_order])
    frame = slide.shapes.add_chart(KINDS[spec.kind], Emu(left), Emu(top), Emu(width), Emu(height), data)
    chart = frame.chart
    chart.font.size = Pt(LABEL_PT)
    chart.has_title = True
    chart.chart_title.text_frame.text = spec.title
    title_font = chart.chart_title.text_frame.paragraphs[0].runs[0].font
    title_font.size, title_font.bold = Pt(13), True
    chart.has_legend = len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.TOP
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(LABEL_PT)
    lo, hi, step = axis_scale(spec)
    value_axis, category_axis = chart.value_axis, chart.category_axis
    value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = lo, hi, step
    value_axis.has_title = True
    value_axis.axis_title.text_frame.text = spec.value_title
    axis_font = value_axis.axis_title.text_frame.paragraphs[0].runs[0].font
    axis_font.size, axis_font.bold, axis_font.color.rgb = Pt(11), False, MUTED
    value_axis.tick_labels.number_format = _number_format(tick_decimals(step), spec.decimal_mark)
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = GRID
    _axis_text(value_axis)
    _axis_text(category_axis)
    category_axis.tick_label_position = TICKS.LOW  # names beside the lowest value, never over the bars
    # Where the category axis crosses the value axis is where bars grow from: zero for bars and columns (a bar
    # drawn from the axis minimum makes a small or negative value look large); the minimum for lines, so that
    # their category axis stays at the bottom. (python-pptx writes this on the category axis element.)
    value_axis.crosses = XL_AXIS_CROSSES.MINIMUM if spec.kind == "line" else XL_AXIS_CROSSES.AUTOMATIC
    if spec.category_title:
        category_axis.has_title = True
        category_axis.axis_title.text_frame.text = spec.category_title
        cat_font = category_axis.axis_title.text_frame.paragraphs[0].runs[0].font
        cat_font.size, cat_font.bold, cat_font.color.rgb = Pt(11), False, MUTED
    plot = chart.plots[0]
    if spec.kind != "line":
        plot.gap_width = 50
        plot.overlap = -5 if len(spec.series) > 1 else 0
    for series, i in zip(plot.series, series_order, strict=True):
        s = spec.series[i]
        color = _rgb(series_color(spec, i))
        if spec.kind == "line":
            series.format.line.color.rgb = color
            series.format.line.width = Pt(2.25)
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = color
            series.marker.format.line.color.rgb = color
            series.smooth = False
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = color
            colors = point_colors(spec, i)
            for position, k in enumerate(category_order):
                if colors[k] != series_color(spec, i):
                    point = series.points[position]
                    point.format.fill.solid()
                    point.format.fill.fore_color.rgb = _rgb(colors[k])
        whiskers = s.err_minus is not None and s.err_plus is not None
        if whiskers:
            _error_bars(series._element, tuple((s.err_minus or ())[k] for k in category_order),
                        tuple((s.err_plus or ())[k] for k in category_order), "y" if spec.kind == "line" else None)
        if spec.kind != "line":
            labels = series.data_labels
            labels.show_value = True
            labels.number_format = _number_format(spec.decimals, spec.decimal_mark)
            labels.number_format_is_linked = False
            labels.font.size = Pt(LABEL_PT - 1)
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
            if whiskers:
                _labels_clear_of_whiskers(series, spec, tuple(s.values[k] for k in category_order), width, (lo, hi))
    return frame


def _labels_clear_of_whiskers(series, spec: ChartSpec, values: tuple[float, ...], chart_width: int,
                              scale: tuple[float, float]) -> None:
    """A whisker runs through a label at the bar's end: the value moves inside the bar's base (white, bold)
    on every bar long enough to hold it; a shorter bar keeps it outside."""
    lo, hi = scale
    # The plot's length for the values: the chart less the category names (horizontal bars) and margins.
    names = max((text_width(c, LABEL_PT) for c in spec.categories), default=0.0) if spec.kind == "bar" else 30.0
    plot_pt = (chart_width / 12700) * 0.92 - names - 20
    for k, v in enumerate(values):
        if not math.isfinite(v):
            continue
        label_pt = text_width(format_value(v, spec.decimals, spec.decimal_mark), LABEL_PT - 1, bold=True)
        if abs(v) / (hi - lo) * plot_pt >= label_pt + 8:
            label = series.points[k].data_label
            label.position = XL_LABEL_POSITION.INSIDE_BASE
            label.font.size = Pt(LABEL_PT - 1)
            label.font.bold = True
            label.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
