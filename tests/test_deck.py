"""The deck stands on its own: the decision on slide 2 with every arm and the money, charts that grow from
zero, one value per figure across the deck and the brief, titles that state a finding only when there is
one, notes written per slide, Russian names kept in the nominative, long names shortened and kept whole in
the notes. Run on the small demo (both languages) and the examples when ../shared/datasets is present."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.oxml.ns import qn

from tests.conftest import DATASETS, ROOT, demo_config
from tests.test_wording import pdf_pages

EXAMPLES = ["hillstrom", "one_click", "ecom_profiles"]
# Money and percent figures as the formatter writes them: "+4,7 млн ₽", "$0.65", "+42,8 %", "1 845 ₽".
# Within one line: a figure never spans two shapes' texts ("данные до 01.02.2020" then a tile's "63 %").
FIGURE = re.compile(r"[+−-]?(?:[$€£₽][ \u00a0]?)?\d[\d \u00a0\u202f.,]*(?:[ \u00a0]?(?:млн|тыс\.|млрд|K|M|B))?"
                    r"[ \u00a0]?(?:%|₽|\$|п\.п\.|pp)|[+−-]?[$€£]\d[\d.,]*(?:[KMB])?")


@pytest.fixture(scope="module", params=["demo_ru", "demo_en", *EXAMPLES])
def documents(request, small_demo, tmp_path_factory) -> Path:
    from campaign_report.pipeline.report import run_report

    out = tmp_path_factory.mktemp(request.param)
    if request.param.startswith("demo"):
        config = out / "config.toml"
        config.write_text(demo_config(small_demo, out / "output", language=request.param[-2:]), encoding="utf-8")
        return run_report(config).output_dir
    if not (DATASETS / request.param).is_dir():
        pytest.skip(f"shared/datasets/{request.param} not present")
    return run_report(ROOT / "examples" / request.param / "config.toml", out).output_dir


def _slides(path: Path) -> list[tuple[str, str, str]]:
    """(title, body text without charts, notes) per slide."""
    out = []
    for slide in Presentation(path).slides:
        title = slide.shapes.title.text_frame.text if slide.shapes.title is not None else ""
        body = []
        for shape in slide.shapes:
            if shape.has_text_frame and shape != slide.shapes.title:
                body.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                body += [c.text for row in shape.table.rows for c in row.cells]
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        out.append((title, "\n".join(body), notes))
    return out


def _fold(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_bars_and_columns_grow_from_zero(documents):
    for slide in Presentation(documents / "deck.pptx").slides:
        for shape in slide.shapes:
            if not (getattr(shape, "has_chart", False) and shape.has_chart):
                continue
            plot = shape.chart._chartSpace.find(qn("c:chart")).find(qn("c:plotArea"))
            if plot.find(qn("c:barChart")) is None:
                continue
            crosses = plot.find(qn("c:catAx")).find(qn("c:crosses"))
            assert crosses is not None and crosses.get("val") == "autoZero", shape.chart.chart_title.text_frame.text
            scaling = plot.find(qn("c:valAx")).find(qn("c:scaling"))
            low, high = (float(scaling.find(qn(f"c:{k}")).get("val")) for k in ("min", "max"))
            assert low <= 0 <= high


def test_every_money_and_percent_figure_of_the_deck_is_in_the_brief(documents):
    brief = _fold(" ".join(pdf_pages(documents / "brief.pdf")))
    missing = []
    for title, body, _ in _slides(documents / "deck.pptx"):
        for figure in (x for part in (title, *body.split("\n")) for x in FIGURE.findall(_fold(part))):
            figure = figure.strip()
            if figure and figure not in brief:
                missing.append(figure)
    assert not missing, sorted(set(missing))[:10]


def test_the_summary_slide_is_the_decision(documents):
    """Slide 2 names every arm of the test and carries the money page 1 states."""
    import json

    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.wording import group_name

    title, body, _ = _slides(documents / "deck.pptx")[1]
    deck_text = _fold(title + " " + body)
    data = json.loads((documents / "results.json").read_text(encoding="utf-8"))
    if "experiment" in data:
        f = Formatter(data["meta"]["language"], data["meta"]["currency"])
        for d in data["experiment"]["decisions"]:
            assert group_name(f, data["meta"]["names"], d["treatment"]) in deck_text, (d["treatment"], deck_text[:300])
    top = re.split(r"Ключевые цифры|Key numbers", _fold(pdf_pages(documents / "brief.pdf")[0]))[0]
    for money in re.findall(r"[+−]\d[\d ,]*\s?(?:млн|тыс\.)\s?₽|[+−]\$\d[\d.,]*[KM]", top):
        assert money in deck_text, (money, deck_text[:400])


def test_every_deck_closes_with_next_steps(documents):
    """A slide of its own lists the numbered steps (what to do, for whom): not only a line on the summary."""
    bodies = [body for _, body, _ in _slides(documents / "deck.pptx")[2:]]
    assert any(re.search(r"(^|\n)1\. ", body) for body in bodies), [b[:60] for b in bodies]


def test_notes_are_written_per_slide(documents):
    slides = _slides(documents / "deck.pptx")
    # One exhibit continued over two slides keeps its title: its notes count once.
    exhibits = {title: notes for title, _, notes in slides}
    sentences = Counter(s.strip() for notes in exhibits.values() for s in set(re.split(r"(?<=[.!?])\s+", notes))
                        if len(s.strip()) > 60)
    repeated = [s for s, n in sentences.items() if n >= 3]
    assert not repeated, repeated[:2]
    for title, _, notes in slides:
        assert "—." not in notes and " до —" not in notes and "up to —" not in notes, notes[:200]
        if title:
            assert notes.count(title.rstrip(" …")) <= 1, title


def test_russian_names_stay_in_the_nominative(documents):
    text = _fold(" ".join(pdf_pages(documents / "brief.pdf")) + " " + " ".join(
        t + " " + b + " " + n for t, b, n in _slides(documents / "deck.pptx")))
    for wrong in ("Раскатить «", "Не раскатывать «", "раскатывать «", "Остановить «", "на категории «",
                  "проблем — ", "по «"):
        assert wrong not in text, (wrong, text[max(0, text.find(wrong) - 60):text.find(wrong) + 60])


def test_a_long_title_and_a_group_label_stay_on_the_slide(small_demo, tmp_path):
    from campaign_report.pipeline.report import run_report
    from campaign_report.renderers.deck.frame import TITLE_PT, content_width, title_fits
    from campaign_report.renderers.textmetrics import wrapped_lines

    long_title = "Осенняя рассылка " + " ".join(["с очень длинным названием кампании"] * 14)
    config = tmp_path / "config.toml"
    text = demo_config(small_demo, tmp_path / "out").replace(
        'title = "Email-кампания «Осенние скидки», октябрь 2026"', f'title = "{long_title}"').replace(
        'treatment = "Осенняя рассылка"', 'treatment = "Осенняя рассылка 🎁 ' + "очень длинное имя " * 20 + '"')
    config.write_text(text, encoding="utf-8")
    prs = Presentation(run_report(config).output_dir / "deck.pptx")
    width = content_width(prs)
    slides = list(prs.slides)
    cover = slides[0].shapes.title.text_frame
    cover_pt = cover.paragraphs[0].runs[0].font.size.pt
    assert wrapped_lines(cover.text, slides[0].shapes.title.width / 12700 - 14, cover_pt, bold=True) <= 3
    assert long_title in slides[0].notes_slide.notes_text_frame.text  # shortened on the cover, whole in notes
    for slide in slides[1:]:
        title = slide.shapes.title.text_frame.text
        assert title_fits(title, width, TITLE_PT), title
        if title.endswith(" …"):
            assert title[:-2] in slide.notes_slide.notes_text_frame.text


def test_a_missing_liberation_font_is_said_on_the_console(tmp_path, monkeypatch, capsys):
    from campaign_report.pipeline import cli
    from campaign_report.renderers import textmetrics

    monkeypatch.setattr(textmetrics, "font_available", lambda: False)
    config = tmp_path / "config.toml"
    config.write_text('[report]\ntitle = "t"\nlanguage = "en"\n[data.customers]\npath = "nope.csv"\nid = "id"\n',
                      encoding="utf-8")
    assert cli.main(["run", "--config", str(config)]) == 2
    assert "Liberation Sans is not installed" in capsys.readouterr().out


def test_no_two_slides_share_a_title(documents):
    # A table or cards continued on a next slide are numbered ("(1/2)"); a slide repeated elsewhere is a defect.
    titles = [title for title, _, _ in _slides(documents / "deck.pptx") if title]
    assert len(titles) == len(set(titles)), [t for t, n in Counter(titles).items() if n > 1]


def test_lines_that_do_not_fit_a_box_are_counted_not_dropped():
    """The next-steps slide cut offer lines to fit (the demo lost the cluster with 46 % of the value): with `more`,
    what does not fit is counted on the last line."""
    from pptx.util import Inches

    from campaign_report.renderers.deck.frame import text_box

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    lines = [f"Сегмент {i}: предложение с длинным описанием, которое занимает две строки в узкой колонке"
             for i in range(12)]
    dropped = text_box(slide, lines, Inches(0.5), Inches(0.5), Inches(3), Inches(2), max_pt=14, min_pt=11,
                       more="… и ещё {n} — в брифе")
    shown = [p.text for p in slide.shapes[-1].text_frame.paragraphs]
    assert dropped and shown[-1] == f"… и ещё {len(dropped)} — в брифе"
    assert shown[:-1] == lines[:len(lines) - len(dropped)]
