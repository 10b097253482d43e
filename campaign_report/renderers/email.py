"""The e-mail body (HTML with a plain-text alternative), rendered with the documents.

Delivery only sends what is rendered here, so the message says exactly what the brief's page 1 says.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from campaign_report.renderers.view_model import View

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def email_parts(view: View) -> dict[str, str]:
    """Subject, plain text and HTML of the message (templates/email.txt.j2 and email.html.j2)."""
    f = view.fmt
    values = dict(view=view, s=view.summary, t=f.t, colour=_colour)
    text = _environment(autoescape=False).get_template("email.txt.j2").render(**values)
    html = _environment(autoescape=True).get_template("email.html.j2").render(**values)
    return {"subject": view.email_subject, "text": text, "html": html,
            "brief_name": f"{f.t('doc.brief_' + view.kind)}.pdf", "deck_name": f"{f.t('doc.deck_' + view.kind)}.pptx",
            "report_name": f"{f.t('doc.brief_' + view.kind)}.html"}


def _environment(autoescape: bool) -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=autoescape, undefined=StrictUndefined,
                       keep_trailing_newline=True)


def _colour(code: str) -> str:
    return {"win": "#2E7D32", "loss": "#B04A5A", "invalid": "#B04A5A"}.get(code, "#C9A227")


def write_email(view: View, out_path: Path) -> Path:
    """email.json next to the documents: what `campaign-report send` will send."""
    out_path.write_text(json.dumps(email_parts(view), ensure_ascii=False, indent=1), encoding="utf-8")
    return out_path
