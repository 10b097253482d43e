"""Which files a Results becomes: results.json, brief.pdf, report.html, deck.pptx, email.json, target_list.csv,
uplift_list.csv, customer_value.csv."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from campaign_report.analysis.results import Results
from campaign_report.renderers.email import write_email
from campaign_report.renderers.exports import write_results_json, write_target_list
from campaign_report.renderers.pdf import render_pdf, render_web
from campaign_report.renderers.pptx import render_pptx
from campaign_report.renderers.view import build_view


def document_writers(results: Results) -> dict[str, Callable[[Path], Path]]:
    """File name -> a function that writes that file to the path it is given."""
    view = build_view(results)
    writers: dict[str, Callable[[Path], Path]] = {
        "results.json": lambda p: write_results_json(results, view, p),
        "brief.pdf": lambda p: render_pdf(view, p),
        "report.html": lambda p: render_web(view, p),
        "deck.pptx": lambda p: render_pptx(view, p),
        "email.json": lambda p: write_email(view, p),
    }
    full_list = results.target_list
    if full_list is not None:
        writers["target_list.csv"] = lambda p: write_target_list(full_list, p)
    uplift_list = results.uplift_list
    if uplift_list is not None:
        writers["uplift_list.csv"] = lambda p: write_target_list(uplift_list, p)
    customer_value = results.customer_value
    if customer_value is not None:
        writers["customer_value.csv"] = lambda p: write_target_list(customer_value, p)
    return writers
