"""Render time of the documents stage for the demo report: the brief (HTML, WeasyPrint layout, PDF writing)
and the deck (python-pptx), best of three, with where the brief's time goes.

Usage: python bench/render_time.py   (needs demo_data/, as made by `make report`)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from campaign_report.analysis.analyze import analyze  # noqa: E402
from campaign_report.analysis.config import load_config  # noqa: E402
from campaign_report.renderers.pdf import TEMPLATES, render_html  # noqa: E402
from campaign_report.renderers.pptx import render_pptx  # noqa: E402
from campaign_report.renderers.view import build_view  # noqa: E402


def main() -> None:
    from weasyprint import HTML

    results = analyze(load_config(ROOT / "config.toml"))
    out = Path(tempfile.mkdtemp())
    HTML(string="<p>warm-up</p>").write_pdf()  # the import and font set-up are paid once per process
    stages: dict[str, list[float]] = {"view": [], "html + charts": [], "layout": [], "pdf": [], "deck": [], "total": []}
    pages = 0
    for _ in range(3):
        t0 = time.perf_counter()
        view = build_view(results)
        t1 = time.perf_counter()
        html = render_html(view)
        t2 = time.perf_counter()
        document = HTML(string=html, base_url=str(TEMPLATES)).render()
        t3 = time.perf_counter()
        document.write_pdf(out / "brief.pdf")
        t4 = time.perf_counter()
        render_pptx(view, out / "deck.pptx")
        t5 = time.perf_counter()
        pages = len(document.pages)
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0), strict=True):
            stages[name].append(seconds)
    print(f"documents stage, best of 3: {min(stages['total']):.2f} s "
          f"(brief {pages} pages, {(out / 'brief.pdf').stat().st_size / 1024:.0f} KB; "
          f"deck {(out / 'deck.pptx').stat().st_size / 1024:.0f} KB)")
    for name, times in stages.items():
        if name != "total":
            print(f"  {name:14s} {min(times):.2f} s")


if __name__ == "__main__":
    main()
