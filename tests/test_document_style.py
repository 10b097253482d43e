"""The documents keep DOCUMENT_STYLE: type from the deck's theme, titles within two lines, notes on every
slide and different on each, tables in the master's style with no word broken in a header, text in the
brief at 8 pt or more, and no page or slide left mostly empty. Run on the small demo, and on the examples
over the public data sets when ../shared/datasets is present.

Rules, as measured here:
- a title fits when it wraps to at most two lines at the master's title size (26 pt bold; 36 pt on the
  cover) in its placeholder's width less the 0.1 in insets, with Liberation Sans widths (Arial's metrics);
- a brief page is blank below its last ink: (bottom of the text area - last non-white pixel row) / height
  of the text area, read from pdftoppm at 30 dpi; at most 40 % on every page but the last;
- a slide is filled when its ink below the title band spans at least half the height down to the source
  line (LibreOffice's rendering of the deck, read the same way).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from pptx import Presentation
from pypdf import PdfReader

from campaign_report.renderers.textmetrics import font_available, longest_word, wrapped_lines
from tests.conftest import DATASETS, ROOT

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
EXAMPLES = ["hillstrom", "ecom_profiles"]
MIN_BRIEF_PT = 8.0
MAX_BLANK = 0.40
MIN_SLIDE_FILL = 0.5
MM = 72 / 25.4


@pytest.fixture(scope="module", params=["demo", *EXAMPLES])
def documents(request, small_run, tmp_path_factory) -> Path:
    """The output folder of the small demo or of an example (rendered once per module)."""
    if request.param == "demo":
        return small_run.output_dir
    if not (DATASETS / request.param).is_dir():
        pytest.skip(f"shared/datasets/{request.param} not present")
    from campaign_report.pipeline.report import run_report

    out = tmp_path_factory.mktemp(request.param)
    return run_report(ROOT / "examples" / request.param / "config.toml", out).output_dir


def _runs_with_font_family(xml: bytes) -> list[str]:
    tree = etree.fromstring(xml)
    return [el.get("typeface") for tag in ("latin", "ea", "cs", "sym")
            for el in tree.iter(f"{A}{tag}") if el.getparent().tag.endswith(("rPr", "defRPr", "endParaRPr"))]


def test_no_run_sets_a_font_family_and_the_theme_uses_arial(documents):
    prs = Presentation(documents / "deck.pptx")
    package = prs.part.package
    for part in package.iter_parts():
        name = str(part.partname)
        if name.startswith(("/ppt/slides/", "/ppt/charts/", "/ppt/notesSlides/")) and name.endswith(".xml"):
            assert _runs_with_font_family(part.blob) == [], name
    theme = next(p for p in package.iter_parts() if str(p.partname).startswith("/ppt/theme/theme"))
    fonts = etree.fromstring(theme.blob).find(f".//{A}fontScheme")
    assert fonts.find(f"{A}majorFont/{A}latin").get("typeface") == "Arial"
    assert fonts.find(f"{A}minorFont/{A}latin").get("typeface") == "Arial"


def test_every_slide_has_its_own_notes(documents):
    prs = Presentation(documents / "deck.pptx")
    notes = [s.notes_slide.notes_text_frame.text.strip() if s.has_notes_slide else "" for s in prs.slides]
    assert all(notes), [i + 1 for i, n in enumerate(notes) if not n]
    assert len(set(notes)) == len(notes), [n[:80] for n in notes if notes.count(n) > 1]
    assert not any("{" in n or "}" in n for n in notes)  # no placeholder left unfilled
    for text in notes:  # two to five sentences, give or take an abbreviation
        assert len(re.findall(r"[.!?…](?:\s|$)", text)) >= 2 and len(text) <= 1200, text
        # Read aloud, a note is whole sentences: no bracket left open or a stray tail of one ("«Качество
        # данных»)."), no sentence starting in lower case, no two run together ("«никому» Список").
        assert text.count("(") == text.count(")") and text.count("«") == text.count("»"), text
        # (an abbreviation such as "Доп." or "см." may be followed by lower case)
        assert not [m for m in re.finditer(r"(\w+)[.!?] [a-zа-яё]", text) if len(m.group(1)) > 4], text
        assert not re.search(r"[»”] [А-ЯЁ][а-яё]+ [а-яё]", text.replace("», ", "")), text


@pytest.mark.skipif(not font_available(), reason="Liberation Sans not installed: widths would be estimates")
def test_titles_stay_within_two_lines_at_the_masters_size(documents):
    prs = Presentation(documents / "deck.pptx")
    master_title = prs.slide_master.element.find(
        ".//{http://schemas.openxmlformats.org/presentationml/2006/main}titleStyle/" + f"{A}lvl1pPr/{A}defRPr")
    assert master_title.get("sz") == "2600" and master_title.get("b") == "1"
    for number, slide in enumerate(prs.slides, 1):
        title = slide.shapes.title
        sizes = {r.font.size.pt for p in title.text_frame.paragraphs for r in p.runs if r.font.size is not None}
        size = 36 if number == 1 else 26
        assert sizes <= ({36.0} if number == 1 else set()), (number, sizes)  # only the cover sets its size
        lines = wrapped_lines(title.text_frame.text, title.width / 12700 - 14.4, size, bold=True)
        assert lines <= 2, (number, title.text_frame.text)


C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def test_horizontal_bars_read_top_down_with_the_legend_in_the_same_order(documents):
    """Horizontal bars are drawn bottom-up and their legend lists the series last-first: the chart is written
    with its categories and its series reversed, so that the first category is on top, the first series on top
    within it, and the legend in that order. Reversing the category axis instead (maxMin) put the first category
    on top but left the legend the other way round (demo: "Ожидаемая ценность, Клиенты" over bars
    "Клиенты", "Ожидаемая ценность"); the value axis then had to cross at "max" to stay at the bottom."""
    prs = Presentation(documents / "deck.pptx")
    charts = [shape.chart for slide in prs.slides for shape in slide.shapes if shape.has_chart]
    bars = [c for c in charts if (d := c._chartSpace.find(f".//{C}barDir")) is not None and d.get("val") == "bar"]
    for chart in bars:
        space = chart._chartSpace
        assert space.find(f".//{C}catAx/{C}scaling/{C}orientation").get("val") == "minMax"
        assert space.find(f".//{C}valAx/{C}crosses").get("val") == "autoZero"


def test_a_bar_chart_is_written_bottom_up_with_its_colours_kept():
    from campaign_report.renderers.charts import ACCENT, ChartSpec, Series
    from campaign_report.renderers.deck.charts import add_chart

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    spec = ChartSpec("k", "bar", "t", "%", ("first", "second", "third"),
                     (Series("customers", (1.0, 2.0, 3.0)), Series("revenue", (10.0, 20.0, 30.0))), "s", shades=True)
    chart = add_chart(slide, spec, 0, 0, 6_000_000, 3_000_000).chart
    assert list(chart.plots[0].categories) == ["third", "second", "first"]
    assert [s.name for s in chart.plots[0].series] == ["revenue", "customers"]
    assert list(chart.plots[0].series[0].values) == [30.0, 20.0, 10.0]
    assert str(chart.plots[0].series[1].format.fill.fore_color.rgb) == ACCENT.lstrip("#").upper()


def test_a_series_has_one_colour_on_every_chart(small_run):
    """"Revenue" light blue on one slide and grey on the next read as two different things."""
    from campaign_report.renderers.charts import series_color
    from campaign_report.renderers.view import build_view

    view = build_view(small_run.results)
    colours: dict[str, set[str]] = {}
    for section in view.sections:
        for chart in section.charts:
            if len(chart.series) > 1:
                for i, series in enumerate(chart.series):
                    colours.setdefault(series.name, set()).add(series_color(chart, i))
    assert colours
    assert {name: c for name, c in colours.items() if len(c) > 1} == {}


def test_the_summary_slide_has_three_numbers_and_a_title_of_its_own(documents):
    """The executive summary: the decision (or the findings together) as its title, never another slide's,
    and three number tiles."""
    prs = Presentation(documents / "deck.pptx")
    titles = [slide.shapes.title.text_frame.text for slide in prs.slides]
    assert titles[1] not in titles[2:], titles[1]
    summary = prs.slides[1]
    tiles = [shape for shape in summary.shapes if shape.has_text_frame and shape != summary.shapes.title
             and any(r.font.size is not None and r.font.size.pt >= 24
                     for p in shape.text_frame.paragraphs for r in p.runs)]
    assert len(tiles) == 3, [t.text_frame.text for t in tiles]


def test_tables_use_the_masters_style_and_break_no_header_word(documents):
    prs = Presentation(documents / "deck.pptx")
    styles = next(p for p in prs.part.package.iter_parts() if str(p.partname) == "/ppt/tableStyles.xml")
    default = etree.fromstring(styles.blob).get("def")
    assert etree.fromstring(styles.blob).find(f"{A}tblStyle").get("styleName") == "Campaign report"
    tables = [shape for slide in prs.slides for shape in slide.shapes if shape.has_table]
    for shape in tables:
        assert shape._element.find(f".//{A}tableStyleId").text == default
        table = shape.table
        for c, column in enumerate(table.columns):
            cell = table.cell(0, c)
            size = cell.text_frame.paragraphs[0].runs[0].font.size.pt
            room = column.width / 12700 - (cell.margin_left + cell.margin_right) / 12700
            assert longest_word(cell.text_frame.text, size, bold=True) <= room, cell.text_frame.text


def test_brief_text_is_at_least_8_pt(documents):
    smallest: dict[float, str] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = abs(tm[0] * tm[3] - tm[1] * tm[2]) ** 0.5 * abs(cm[0] * cm[3] - cm[1] * cm[2]) ** 0.5
            smallest.setdefault(round(size * scale, 2), text.strip())

    for page in PdfReader(documents / "brief.pdf").pages:
        page.extract_text(visitor_text=visit)
    assert min(smallest) >= MIN_BRIEF_PT, (min(smallest), smallest[min(smallest)])


def _ink_rows(png: Path) -> list[int]:
    from PIL import Image

    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    return [y for y in range(height) if any(pixels[x, y] < 235 for x in range(0, width, 2))]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_no_brief_page_is_mostly_blank_but_the_last(documents, tmp_path):
    subprocess.run(["pdftoppm", "-gray", "-r", "30", "-png", str(documents / "brief.pdf"), str(tmp_path / "p")],
                   check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    blank = []
    for png in pages:
        height_px = _height(png)
        top, bottom = round(20 * MM / 72 * 30), height_px - round(18 * MM / 72 * 30)  # the @page margins
        ink = [y for y in _ink_rows(png) if top <= y < bottom]
        blank.append((bottom - (max(ink) if ink else top)) / (bottom - top))
    assert all(b <= MAX_BLANK for b in blank[:-1]), [round(b, 2) for b in blank]


def _height(png: Path) -> int:
    from PIL import Image

    return Image.open(png).size[1]


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice or poppler-utils not installed")
def test_every_slide_fills_half_the_area_below_its_title(documents, tmp_path):
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(documents / "deck.pptx")], check=True, capture_output=True, timeout=240)
    subprocess.run(["pdftoppm", "-gray", "-r", "20", "-png", str(tmp_path / "deck.pdf"), str(tmp_path / "s")],
                   check=True)
    thin = []
    for number, png in enumerate(sorted(tmp_path.glob("s-*.png"), key=lambda p: int(p.stem[2:])), 1):
        top, bottom = round(1.4 * 20), round(7.0 * 20)  # below the title band, above the source line
        ink = [y for y in _ink_rows(png) if top <= y < bottom]
        fill = (max(ink) - top) / (bottom - top) if ink else 0.0
        if number > 1 and fill < MIN_SLIDE_FILL:
            thin.append((number, round(fill, 2)))
    assert not thin, thin


def test_no_word_of_a_table_is_broken_in_the_brief(documents):
    """Every word of every table cell (read from report.html, the same tables) is whole in the PDF's text: a
    column narrower than its longest word prints "Побед" on one line and "а" on the next."""
    from lxml import html

    page = html.fromstring((documents / "report.html").read_text(encoding="utf-8"))
    words = {w for cell in page.iter("td", "th") for w in re.findall(r"[^\W\d_]{5,}", cell.text_content())}
    text = " ".join(p.extract_text() for p in PdfReader(documents / "brief.pdf").pages).replace("\xa0", " ")
    broken = sorted(w for w in words if w not in text)
    assert not broken, broken[:10]
