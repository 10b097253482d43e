"""Renderers on a hand-made Results: locale formats, layout limits, structure; and the import rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from campaign_report.analysis.customers.segments import ClusterPortrait, KScore, SegmentsResult
from campaign_report.analysis.experiment.result import Decision, ExperimentResult, GroupSize, MetricResult, SrmCheck
from campaign_report.analysis.meaning import DataMeaning, MoneyMeaning
from campaign_report.analysis.results import Meta, Results
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.pptx import estimated_lines, fit_size
from campaign_report.renderers.textmetrics import font_available, text_width, wrap

ROOT = Path(__file__).resolve().parent.parent


def tiny_results(language: str = "ru") -> Results:
    metric = MetricResult("arpu", "control", "treatment", 1000, 1000, 100.0, 110.0, 10.0, 0.1, 2.0, 18.0, 0.02, 0.18,
                          0.01, 0.02, True, "welch_t", False, None, 0.08, 8.0, 0.9, 0.95, 1)
    exp = ExperimentResult("2026-10-01", "2026-10-31", "control", (GroupSize("control", 1000, 0.5, 0.5),
                           GroupSize("treatment", 1000, 0.5, 0.5)), 0, SrmCheck(0.0, 1.0, True), (metric,),
                           (Decision("treatment", "win", "arpu", ()),), Decision("treatment", "win", "arpu", ()), (),
                           (), "arpu", 0.95, "holm", False, 0)
    cluster = ClusterPortrait(0, "Молодёжь: обувь", "Young buyers: shoes", 100, 1.0, 1.0, 20.0,
                              (("Ж", 0.5), ("М", 0.5)), 1.0, (("Обувь", 0.6),), (("Найк", 0.5),),
                              3000.0, 4.0, 0.2, 30.0, ())
    seg = SegmentsResult("kmeans", 1, "configured", 0.5, (KScore(2, 0.4, 1.0),), ("age",), (cluster,), 100, 100)
    meta = Meta("Тест", language, "₽", "2026-11-22T10:00:00+00:00", "abc", (), {}, "2026-11-01", 100)
    money = MoneyMeaning(revenue=True, profit_column=None, profit_unit=None, margin=None, currency="₽")
    meaning = DataMeaning(transactions=True, order_ids=True, categories=True, brands=True, promo=False,
                          customers=False, customer_traits=(), experiment=True, label=None, money=money)
    return Results(meta, meaning, (), exp, seg, None, None, None)


def test_ru_and_en_number_formats():
    ru, en = Formatter("ru", "₽"), Formatter("en", "₽")
    assert ru.money(20222) == "20\u00a0222\u00a0₽"
    assert ru.percent(0.0168, 2) == "1,68\u00a0%"
    assert ru.pp(0.044) == "+4,4\u00a0п.п."
    assert ru.date("2026-10-31") == "31.10.2026"
    assert en.percent(0.0168, 2) == "1.68%" and en.money(20222) == "₽20,222"
    assert ru.number(float("nan")) == "—" and ru.p_value(0.0001) == "<\u00a00,001"
    assert ru.number(-1234.5, 1) == "−1\u00a0234,5"


def test_quotes_inside_a_quoted_name_become_the_inner_kind():
    ru, en = Formatter("ru", "₽"), Formatter("en", "₽")
    assert en.quote("Big baskets: “Велосипеды”, infrequent") == "“Big baskets: ‘Велосипеды’, infrequent”"
    assert ru.quote("Рассылка «Весна»") == "«Рассылка „Весна“»"
    assert ru.quote("Обувь") == "«Обувь»" and en.quote("it's") == "“it's”"
    # Templates that quote a value themselves nest the same way (the cluster name quotes its category).
    name = "Big baskets: “Велосипеды”, infrequent"
    assert en.t("segments.headline_few", k=4, name=name, customers="19%", share="39%").startswith(
        "4 customer segments: “Big baskets: ‘Велосипеды’, infrequent” are")


def test_locales_have_the_same_keys():
    import tomllib

    def keys(d, prefix=""):
        return {k2 for k, v in d.items() for k2 in (keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k})}

    ru = tomllib.loads((ROOT / "campaign_report/templates/locale/ru.toml").read_text(encoding="utf-8"))
    en = tomllib.loads((ROOT / "campaign_report/templates/locale/en.toml").read_text(encoding="utf-8"))
    assert keys(ru) == keys(en)


def test_fit_size_shrinks_then_splits():
    lines = ["слово " * 40] * 3
    assert fit_size(lines, 10, 5, 16) == 16
    assert fit_size(lines, 8, 3.2, 16) < 16
    # Sizes come from the type scale: body text is 16, 14 or 12 pt on every slide, never 14.5 or 12.5.
    assert {fit_size(lines, w / 4, 3.2, 16) for w in range(24, 48)} <= {16, 14, 12}
    assert fit_size(lines * 10, 2, 1, 16) is None
    assert estimated_lines("слово " * 20, 1, 12) > 1


@pytest.mark.parametrize("language", ["ru", "en"])
def test_both_languages_render(language, tmp_path):
    from campaign_report.renderers.pdf import render_pdf
    from campaign_report.renderers.pptx import render_pptx
    from campaign_report.renderers.view import build_view

    view = build_view(tiny_results(language))
    render_pdf(view, tmp_path / "b.pdf")
    render_pptx(view, tmp_path / "d.pptx")
    assert (tmp_path / "b.pdf").stat().st_size > 5000 and (tmp_path / "d.pptx").stat().st_size > 20000


def test_analysis_never_imports_renderers_or_document_libraries():
    banned = {"jinja2", "weasyprint", "pptx", "matplotlib", "campaign_report.renderers", "campaign_report.pipeline"}
    paths = list((ROOT / "campaign_report" / "analysis").rglob("*.py"))
    assert len(paths) > 20
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), (path.name, name)


def test_long_text_continues_on_the_next_slide(tmp_path):
    from dataclasses import replace

    from pptx import Presentation

    from campaign_report.renderers.pptx import render_pptx
    from campaign_report.renderers.view import build_view

    results = tiny_results()
    exp = results.experiment
    names = [f"вариант письма №{i}" for i in range(40)]
    decisions = tuple(replace(exp.decisions[0], treatment=n) for n in names)
    metrics = tuple(replace(exp.metrics[0], treatment=n) for n in names)
    view = build_view(replace(results, experiment=replace(exp, decisions=decisions, metrics=metrics)))
    render_pptx(view, tmp_path / "d.pptx")
    prs = Presentation(str(tmp_path / "d.pptx"))
    text = " ".join(shape.text_frame.text for slide in prs.slides for shape in slide.shapes if shape.has_text_frame)
    assert all(f"вариант письма №{i}»" in text for i in range(40))  # nothing dropped
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.top + shape.height <= prs.slide_height and shape.left + shape.width <= prs.slide_width


def test_documents_say_when_models_were_fitted_on_a_sample():
    from dataclasses import replace

    from campaign_report.renderers.view import build_view

    results = tiny_results("ru")
    sampled = replace(results, segments=replace(results.segments, n_customers=1_000_000, n_fitted=200_000))
    text = " ".join(p for s in build_view(sampled).sections for p in s.paragraphs)
    assert "200 000 из 1 000 000" in text.replace("\u00a0", " ")
    # The engine is for the analyst: the brief's methods print it, the deck does not.
    analyst = " ".join(p for s in build_view(sampled).sections for p in s.analyst)
    assert "агрегированы в duckdb" in analyst.lower() and "duckdb" not in text.lower()
    plain = " ".join(p for s in build_view(results).sections for p in s.paragraphs)
    assert "построены на выборке" not in plain


def test_target_list_is_safe_to_open_in_a_spreadsheet(tmp_path):
    import csv

    import pandas as pd

    from campaign_report.renderers.exports import write_target_list

    hostile = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tTAB", "\rCR", "plain",
               "-12.5", "+7"]
    frame = pd.DataFrame({"id": hostile, "probability": [0.5, -0.25, 1, 0, 0, 0, 0, 0, 0], "=cmd": "x"})
    path = write_target_list(frame, tmp_path / "t.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "probability", "'=cmd"]
    ids = [r[0] for r in rows[1:]]
    assert ids[:6] == ["'" + v for v in hostile[:6]]
    assert ids[6:] == ["plain", "-12.5", "+7"]  # numbers written as text stay numbers
    assert [r[1] for r in rows[1:3]] == ["0.5", "-0.25"]  # a numeric column is untouched


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    import os
    import subprocess
    import sys

    from campaign_report.pipeline.publish import publish

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = tmp_path / f".staging-{int(dead.stdout)}-1"
    killed.mkdir()
    (killed / "brief.pdf").write_bytes(b"half a pdf")
    running = tmp_path / f".staging-{os.getpid()}-2"  # a run still in progress is left alone
    running.mkdir()

    def write(path):
        path.write_text("{}", encoding="utf-8")
        return path

    publish(tmp_path, {"results.json": write})
    assert not killed.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".staging")) == [
        "current", "results.json", "runs"]


@pytest.mark.skipif(not font_available(), reason="Liberation Sans not installed: widths would be estimates")
def test_the_rouble_sign_is_measured_in_the_font_that_draws_it():
    """Liberation Sans has no ₽ (its empty box is 0.37 em); LibreOffice and WeasyPrint draw it in DejaVu Sans
    at 0.64 em. Measured as the empty box, "+122,05 ₽ … +276,27 ₽" fitted a deck column it then overflowed."""
    assert text_width("₽", 10) == pytest.approx(6.36, abs=0.05)
    assert text_width("+122,05\u00a0₽", 10) == pytest.approx(text_width("+122,05\u00a0", 10) + 6.36, abs=0.05)


@pytest.mark.skipif(not font_available(), reason="Liberation Sans not installed: widths would be estimates")
def test_wrapped_lines_keep_every_word_and_fit_their_width():
    text = "Кампания «Осенняя рассылка» сработала: ARPU (выручка на клиента) +42,8 % (ДИ +26,7 % … +61,4 %)"
    for width in (60, 120, 200, 400):
        lines = wrap(text, width, 10)
        assert " ".join(lines) == text
        assert all(text_width(line, 10) <= width for line in lines if " " in line), (width, lines)
        # Greedy: the next word would not have fitted on any line but the last.
        words = text.split(" ")
        position = 0
        for line in lines[:-1]:
            position += len(line.split(" "))
            assert text_width(f"{line} {words[position]}", 10) > width * 0.99, (width, line)
