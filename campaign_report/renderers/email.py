"""The e-mail body (HTML with a plain-text alternative), rendered with the documents.

Delivery only sends what is rendered here, so the message says exactly what the brief's page 1 says.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from campaign_report.renderers.view_model import View


def email_parts(view: View) -> dict[str, str]:
    """Subject, plain text and HTML of the message."""
    f = view.fmt
    s = view.summary
    lines = [view.title, ""]
    lines += [v.sentence for v in s.verdicts] + [x.sentence for x in s.findings]
    if s.key_numbers:
        lines += ["", f.t("doc.key_numbers") + ":"]
        lines += [f"- {k.label}: {k.value} ({k.detail})" for k in s.key_numbers[:5]]
    if s.act_on:
        lines += ["", f.t("doc.act_on") + ":"] + [f"- {a.title}: {a.text}" for a in s.act_on]
    if s.offers:
        lines += ["", f.t("doc.top_offers") + ":"] + [f"- {o.segment}: {o.offer}" for o in s.offers[:5]]
    if s.next_steps:
        lines += ["", f.t("doc.next_steps") + ":"] + [f"{i}. {step}" for i, step in enumerate(s.next_steps, 1)]
    text = "\n".join(lines) + "\n"
    verdicts = "".join(
        f'<p style="border-left:4px solid {_colour(v.code)};padding:6px 10px;background:#f6f6f6">'
        f"<b>{escape(v.label)}</b><br>{escape(v.sentence)}</p>" for v in s.verdicts) + "".join(
        f'<p style="border-left:4px solid #1F4E79;padding:6px 10px;background:#f6f6f6">'
        f"<b>{escape(x.label)}</b><br>{escape(x.sentence)}</p>" for x in s.findings)
    kpis = "".join(f"<tr><td style='padding:4px 10px 4px 0'>{escape(k.label)}</td>"
                   f"<td style='padding:4px 10px;font-weight:bold;color:#1F4E79'>{escape(k.value)}</td>"
                   f"<td style='padding:4px 0;color:#555;font-size:12px'>{escape(k.detail)}</td></tr>"
                   for k in s.key_numbers[:5])
    offers = "".join(f"<li><b>{escape(o.segment)}</b>: {escape(o.offer)}</li>" for o in s.offers[:5])
    steps = "".join(f"<li>{escape(step)}</li>" for step in s.next_steps)
    act_on = "".join(f"<p><b>{escape(a.title)}.</b> {escape(a.text)}</p>" for a in s.act_on)
    html = (f"<html><body style='font-family:DejaVu Sans,Arial,sans-serif;font-size:14px;color:#222'>"
            f"<h2 style='color:#1F4E79'>{escape(view.title)}</h2>{verdicts}"
            + (f"<h3>{escape(f.t('doc.key_numbers'))}</h3><table>{kpis}</table>" if kpis else "")
            + (f"<h3>{escape(f.t('doc.act_on'))}</h3>{act_on}" if act_on else "")
            + (f"<h3>{escape(f.t('doc.top_offers'))}</h3><ul>{offers}</ul>" if offers else "")
            + (f"<h3>{escape(f.t('doc.next_steps'))}</h3><ol>{steps}</ol>" if steps else "")
            + "</body></html>")
    return {"subject": view.email_subject, "text": text, "html": html,
            "brief_name": f"{f.t('doc.brief_' + view.kind)}.pdf", "deck_name": f"{f.t('doc.deck_' + view.kind)}.pptx"}


def _colour(code: str) -> str:
    return {"win": "#2E7D32", "loss": "#B04A5A", "invalid": "#B04A5A"}.get(code, "#C9A227")


def write_email(view: View, out_path: Path) -> Path:
    """email.json next to the documents: what `campaign-report send` will send."""
    out_path.write_text(json.dumps(email_parts(view), ensure_ascii=False, indent=1), encoding="utf-8")
    return out_path
