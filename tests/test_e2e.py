"""End to end on a small demo: results.json contract, PDF text and fonts, native charts in the deck."""

from __future__ import annotations

import json

import pytest
from pptx import Presentation
from pypdf import PdfReader

from campaign_report.analysis.demo import load_truth

DESIGN_KEYS = {
    "meta": {"title", "language", "created", "config_hash", "inputs", "versions"},
    "experiment": {"groups", "srm", "metrics", "by_segment", "decision"},
    "segments": {"method", "k", "silhouette", "clusters"},
    "rfm": {"segments"},
    "propensity": {"target", "candidates", "best", "holdout", "importance", "warnings", "target_list"},
}
METRIC_KEYS = {"metric", "control", "treatment", "control_value", "treatment_value", "abs_diff", "rel_lift",
               "ci_low", "ci_high", "p_value", "significant", "method", "mde", "power"}


def test_results_json_contract(small_run):
    data = json.loads((small_run.output_dir / "results.json").read_text(encoding="utf-8"))
    for section, keys in DESIGN_KEYS.items():
        assert keys <= set(data[section]), (section, keys - set(data[section]))
    assert {"tables"} == set(data["data_quality"])
    assert METRIC_KEYS <= set(data["experiment"]["metrics"][0])
    assert data["experiment"]["decision"]["verdict"] in ("win", "loss", "no_detectable_effect", "invalid")
    assert data["experiment"]["decision"]["text"]
    cluster = data["segments"]["clusters"][0]
    assert {"id", "name", "size", "share", "profile"} <= set(cluster)
    assert {"segment", "offer", "rationale", "evidence"} <= set(data["offers"][0])
    assert {"roc_auc", "pr_auc", "f1", "precision", "recall", "threshold"} <= set(data["propensity"]["holdout"])
    assert data["propensity"]["target_list"]["path"] == "target_list.csv"
    assert all(set(i) >= {"name", "rows", "sha256"} for i in data["meta"]["inputs"])
    assert "NaN" not in (small_run.output_dir / "results.json").read_text(encoding="utf-8")


def test_planted_ab_effect_inside_reported_ci(small_run, small_demo):
    truth = load_truth(small_demo)
    metrics = {m.metric: m for m in small_run.results.experiment.metrics}
    assert metrics["conversion"].rel_ci_low <= truth.conversion_rel_lift <= metrics["conversion"].rel_ci_high
    assert metrics["arpu"].rel_ci_low <= truth.arpu_rel_lift <= metrics["arpu"].rel_ci_high


def test_pdf_has_cyrillic_pages_and_embeds_the_font(small_run):
    reader = PdfReader(small_run.output_dir / "brief.pdf")
    assert 4 <= len(reader.pages) <= 18  # six analyses and three appendices; uplift and lifetime take two pages each
    text = [page.extract_text() for page in reader.pages]
    assert "Ключевые цифры" in text[0] and "Сработала ли кампания" in "".join(text)
    assert sum("клиент" in t for t in text) >= 3
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            if descriptor is not None and any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2",
                                                                                       "/FontFile3")):
                embedded.add(str(font["/BaseFont"]))
    # Liberation Sans (Arial's metrics, as the deck's theme font); DejaVu for the glyphs it lacks (✓, σ)
    assert embedded and all("Liberation-Sans" in f or "DejaVu-Sans" in f for f in embedded), embedded
    assert "NaN" not in "".join(text) and "nan %" not in "".join(text)


def test_deck_has_native_charts_inside_the_slide(small_run):
    prs = Presentation(small_run.output_dir / "deck.pptx")
    charts = [shape for slide in prs.slides for shape in slide.shapes if shape.has_chart]
    assert len(charts) >= 5
    assert any(c.chart.plots[0].series[0]._element.find(
        "{http://schemas.openxmlformats.org/drawingml/2006/chart}errBars") is not None for c in charts)
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= prs.slide_width and shape.top + shape.height <= prs.slide_height
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    assert any("поднял" in t or "не обнаружено" in t or "недостоверен" in t for t in titles)
    assert all(slide.has_notes_slide for slide in list(prs.slides)[2:])


def test_target_list_sorted_with_offers(small_run):
    import pandas as pd

    frame = pd.read_csv(small_run.output_dir / "target_list.csv", encoding="utf-8-sig")
    assert list(frame.columns)[:6] == ["customer_id", "probability", "decile", "segment", "offer", "reason_code"]
    assert frame["gender_imputed"].any() and frame["gender"].notna().all()
    assert frame["probability"].is_monotonic_decreasing and frame["decile"].between(1, 10).all()
    assert frame["offer"].str.len().gt(0).mean() > 0.9
    assert len(frame) == small_run.results.propensity.target_list.size


def test_data_derived_text_is_escaped(small_demo, tmp_path):
    from campaign_report.analysis.results import Results
    from campaign_report.renderers.pdf import render_html
    from campaign_report.renderers.view import build_view

    del small_demo, tmp_path
    pytest.importorskip("weasyprint")
    # A category named "<b>&" must print as such: build a tiny view with that name.
    from dataclasses import replace

    from tests.test_render import tiny_results

    results: Results = tiny_results()
    results = replace(results, segments=replace(results.segments, clusters=tuple(
        replace(c, name_ru="<b>&", top_categories=(("<b>&", 1.0),)) for c in results.segments.clusters)))
    html = render_html(build_view(results))
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html
