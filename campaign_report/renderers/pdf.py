"""The brief: view model -> Jinja2 HTML (autoescaped, strict) -> WeasyPrint A4 PDF."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from campaign_report.renderers.charts import render_svg
from campaign_report.renderers.view_model import View

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined)


def render_html(view: View) -> str:
    """The brief as one HTML document (charts inlined as SVG data URIs)."""
    charts = {}
    for section in view.sections:
        for chart in section.charts:
            svg = render_svg(chart).encode("utf-8")
            charts[chart.key] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    template = _environment().get_template("brief.html.j2")
    return template.render(view=view, t=view.fmt.t, charts=charts,
                           css=(TEMPLATES / "brief.css").read_text(encoding="utf-8"))


def render_pdf(view: View, out_path: Path) -> Path:
    """Write the brief to out_path."""
    from weasyprint import HTML  # imported late: it is slow to import and only this renderer needs it

    HTML(string=render_html(view), base_url=str(TEMPLATES)).write_pdf(out_path)
    return out_path
