"""The brief: view model -> Jinja2 HTML (autoescaped, strict) -> WeasyPrint A4 PDF."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from campaign_report.renderers.charts import WIDTH_PT, ChartSpec, render_chart
from campaign_report.renderers.textmetrics import fit_columns
from campaign_report.renderers.view_model import Table, View

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined)


TABLE_PT = 8.5  # table.data's font size in brief.css
MIN_TABLE_PT = 8.0  # DOCUMENT_STYLE's smallest type in the brief
CELL_INSET_PT = 9.1  # its cells' left plus right padding (1.6 mm each)
# WeasyPrint sets a word up to about a point wider than the font's advance widths add up to: a column fitted
# to the exact width of "Победа" broke it into "Побед / а". The floor keeps this much spare.
WRAP_SLACK_PT = 2.0


def _column_layout(table: Table) -> tuple[list[float], float]:
    """Each column's share of the text width, from the widths of its words and lines, and the font size they
    were fitted at: a table whose words do not fit at 8.5 pt is set at 8 pt rather than break a word (and only
    one whose words do not fit even then breaks them)."""
    widths, size = None, TABLE_PT
    for size in (TABLE_PT, MIN_TABLE_PT):
        widths = fit_columns(table.header, table.rows, WIDTH_PT, size, CELL_INSET_PT + WRAP_SLACK_PT)
        if widths:
            break
    widths = widths or [1.0] * len(table.header)
    return [round(100 * w / sum(widths), 2) for w in widths], size


def render_html(view: View, web: bool = False) -> str:
    """The brief as one HTML document (charts drawn inline, escaped by the chart renderer). `web`: the page a
    browser shows (report.html): scalable SVG charts, tables that scroll sideways, the phone's width."""
    charts = {chart.key: Markup(_web_chart(chart) if web else render_chart(chart)) for section in view.sections
              for chart in section.charts}
    # Column widths measured here and laid out as a fixed table: WeasyPrint's automatic table layout
    # measured every cell several times and took about a third of the brief's time.
    widths = {f"{section.key}:{i}": _column_layout(table) for section in view.sections
              for i, table in enumerate(section.tables)}
    template = _environment().get_template("brief.html.j2")
    css = (TEMPLATES / "brief.css").read_text(encoding="utf-8")
    if web:
        css += (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return template.render(view=view, t=view.fmt.t, charts=charts, widths=widths, css=css, web=web)


PHONE_WIDTH_PT = 330.0  # a phone's text width: the chart drawn for it keeps 8.5 pt labels readable


def _web_chart(chart: ChartSpec) -> str:
    """The chart drawn twice, for a wide screen and for a phone (report.css shows one): scaling one drawing down
    to a phone would shrink its labels to 5 pt."""
    return (f'<div class="chart-wide">{render_chart(chart, scalable=True)}</div>'
            f'<div class="chart-narrow">{render_chart(chart, PHONE_WIDTH_PT, scalable=True)}</div>')


def render_web(view: View, out_path: Path) -> Path:
    """report.html: the brief as one self-contained, responsive page (no external resource)."""
    out_path.write_text(render_html(view, web=True), encoding="utf-8")
    return out_path


def render_pdf(view: View, out_path: Path) -> Path:
    """Write the brief to out_path."""
    from weasyprint import HTML  # imported late: it is slow to import and only this renderer needs it

    HTML(string=render_html(view), base_url=str(TEMPLATES)).write_pdf(out_path)
    return out_path
