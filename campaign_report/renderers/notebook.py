"""Results in Jupyter: the documents' own view — formatted tables (units, percents, money, intervals), the
sections' sentences and charts inline — instead of raw dataclass fields.

Registered with IPython's HTML formatter by the package (campaign_report/__init__.py), so that analysis
does not depend on the renderers; `notebook_html(results)` gives the same HTML anywhere.
"""

from __future__ import annotations

from html import escape

from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import render_chart
from campaign_report.renderers.view import build_view
from campaign_report.renderers.view_model import Section, Table

STYLE = ("<style>.cr-nb{font-family:Liberation Sans,Arial,sans-serif;max-width:900px}"
         ".cr-nb h3{color:#1F4E79;margin:18px 0 6px}.cr-nb table{border-collapse:collapse;margin:6px 0}"
         ".cr-nb th,.cr-nb td{padding:3px 8px;border-bottom:1px solid #e3e3e3;text-align:left !important}"
         ".cr-nb td.num,.cr-nb th.num{text-align:right !important;white-space:nowrap}"
         ".cr-nb .note{color:#666;font-size:85%}.cr-nb .verdict{border-left:4px solid #1F4E79;"
         "background:#f3f6fa;padding:6px 10px;margin:4px 0}</style>")


def _table(table: Table) -> str:
    def cells(row: list[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=num" if i in table.numeric else ""}>{escape(c)}</{tag}>'
                       for i, c in enumerate(row))

    rows = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows)
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (f"<table><caption style='text-align:left;font-weight:bold'>{escape(table.title)}</caption>"
            f"<thead><tr>{cells(table.header, 'th')}</tr></thead><tbody>{rows}</tbody></table>{note}")


def _section(section: Section) -> str:
    parts = [f"<h3>{escape(section.title)}</h3>"]
    parts += [f'<p class="verdict">{escape(w)}</p>' for w in section.warnings]
    parts += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
    parts += [render_chart(chart, scalable=True) for chart in section.charts]
    parts += [_table(t) for t in section.tables]
    for card in section.cards:
        parts.append(f"<p><b>{escape(card.title)}</b><br>" + "<br>".join(escape(x) for x in card.lines) + "</p>")
    return "".join(parts)


def notebook_html(results: Results) -> str:
    """The whole report as one HTML block: page 1's verdicts and key numbers, then every section."""
    view = build_view(results)
    s = view.summary
    parts = [STYLE, '<div class="cr-nb">', f"<h2 style='color:#1F4E79'>{escape(view.title)}</h2>"]
    parts += [f'<p class="verdict"><b>{escape(v.label)}</b><br>{escape(v.sentence)}</p>' for v in s.verdicts]
    parts += [f'<p class="verdict"><b>{escape(x.label)}</b><br>{escape(x.sentence)}</p>' for x in s.findings]
    if s.key_numbers:
        parts.append(_table(Table(title=view.fmt.t("doc.key_numbers"), header=["", "", ""], numeric=[1],
                                  rows=[[k.label, k.value, k.detail] for k in s.key_numbers[:5]])))
    if s.next_steps:
        parts.append(f"<h3>{escape(view.fmt.t('doc.next_steps'))}</h3><ol>"
                     + "".join(f"<li>{escape(x)}</li>" for x in s.next_steps) + "</ol>")
    parts += [_section(section) for section in view.sections if section.key not in ("methods",)]
    parts.append("</div>")
    return "".join(parts)
