"""The deck: view model -> python-pptx on templates/deck.pptx, native editable charts, speaker notes.

Every slide uses a layout of the template by name, so a company can drop in its own master. Text boxes
are sized by an estimate of wrapped lines and shrunk (down to a floor) so text stays inside its box;
every shape is kept inside the slide (tests check both).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType
from pptx.util import Emu, Inches, Pt

from campaign_report.renderers.charts import PALETTE, ChartSpec
from campaign_report.renderers.view_model import Card, Section, Table, View

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "deck.pptx"
FONT = "DejaVu Sans"
NAVY = RGBColor(0x1F, 0x4E, 0x79)
GREY = RGBColor(0x55, 0x55, 0x55)
MARGIN = Inches(0.6)
CHAR_WIDTH = 0.56  # average glyph width of DejaVu Sans in ems, for wrap estimates
LINE_HEIGHT = 1.25
KINDS = {"column": XL_CHART_TYPE.COLUMN_CLUSTERED, "bar": XL_CHART_TYPE.BAR_CLUSTERED,
         "line": XL_CHART_TYPE.LINE_MARKERS}


def estimated_lines(text: str, width_in: float, size_pt: float) -> int:
    """Wrapped line count of a text at a font size in a box width (DejaVu Sans metrics)."""
    chars_per_line = max(int(width_in * 72 / (size_pt * CHAR_WIDTH)), 1)
    return sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))


def fit_size(lines: list[str], width_in: float, height_in: float, max_pt: float, min_pt: float = 10,
             spacing_pt: float = 4) -> float | None:
    """The largest font size (step 0.5 pt) at which the lines fit the box, or None if none does."""
    size = max_pt
    while size >= min_pt:
        height = sum(estimated_lines(line, width_in - 0.2, size) * size * LINE_HEIGHT + spacing_pt
                     for line in lines) / 72
        if height <= height_in - 0.1:
            return size
        size -= 0.5
    return None


def _layout(prs: PresentationType, name: str):
    for layout in prs.slide_layouts:
        if layout.name == name:
            return layout
    return prs.slide_layouts[-1]


def _style_runs(paragraph, size: float, color: RGBColor | None = None, bold: bool = False) -> None:
    for run in paragraph.runs:
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        if color is not None:
            run.font.color.rgb = color


def _title(slide, text: str, size: float = 26) -> None:
    shape = slide.shapes.title
    shape.text = text
    width_in = shape.width / 914400
    fitted = fit_size([text], width_in, shape.height / 914400, size, 16) or 16
    shape.text_frame.word_wrap = True
    shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    for p in shape.text_frame.paragraphs:
        _style_runs(p, fitted, NAVY, bold=True)


def _text_box(slide, lines: list[str], left, top, width, height, max_pt: float = 16,
              min_pt: float = 10, bold_first: bool = False, color: RGBColor | None = None) -> list[str]:
    """Add lines that fit; return the lines that did not (for a continuation slide)."""
    width_in, height_in = width / 914400, height / 914400
    shown = list(lines)
    size = fit_size(shown, width_in, height_in, max_pt, min_pt)
    while size is None and len(shown) > 1:
        shown = shown[:-1]
        size = fit_size(shown, width_in, height_in, max_pt, min_pt)
    size = size or min_pt
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(shown):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.text = line
        p.space_after = Pt(4)
        _style_runs(p, size, color, bold=bold_first and i == 0)
    return lines[len(shown):]


def _error_bars(series_xml, minus: tuple[float, ...], plus: tuple[float, ...], direction: str | None) -> None:
    def lit(tag: str, values: tuple[float, ...]):
        el = etree.SubElement(err, qn(f"c:{tag}"))
        num = etree.SubElement(el, qn("c:numLit"))
        etree.SubElement(num, qn("c:formatCode")).text = "General"
        etree.SubElement(num, qn("c:ptCount")).set("val", str(len(values)))
        for i, v in enumerate(values):
            pt = etree.SubElement(num, qn("c:pt"))
            pt.set("idx", str(i))
            etree.SubElement(pt, qn("c:v")).text = repr(float(v))

    err = etree.Element(qn("c:errBars"))
    if direction:
        etree.SubElement(err, qn("c:errDir")).set("val", direction)
    etree.SubElement(err, qn("c:errBarType")).set("val", "both")
    etree.SubElement(err, qn("c:errValType")).set("val", "cust")
    etree.SubElement(err, qn("c:noEndCap")).set("val", "0")
    lit("plus", plus)
    lit("minus", minus)
    anchor = series_xml.find(qn("c:cat"))
    if anchor is None:
        anchor = series_xml.find(qn("c:val"))
    anchor.addprevious(err)


def add_chart(slide, spec: ChartSpec, left, top, width, height):
    """A native, editable chart with title, value-axis title (unit), CI whiskers as error bars."""
    data = CategoryChartData()
    data.categories = list(spec.categories)
    for s in spec.series:
        data.add_series(s.name, [round(v, 6) for v in s.values])
    frame = slide.shapes.add_chart(KINDS[spec.kind], left, top, width, height, data)
    chart = frame.chart
    chart.font.name = FONT
    chart.font.size = Pt(11)
    chart.has_title = True
    chart.chart_title.text_frame.text = spec.title
    _style_runs(chart.chart_title.text_frame.paragraphs[0], 13, NAVY, bold=True)
    chart.has_legend = len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    value_axis = chart.value_axis
    value_axis.has_title = True
    value_axis.axis_title.text_frame.text = spec.value_title
    _style_runs(value_axis.axis_title.text_frame.paragraphs[0], 10, GREY)
    value_axis.tick_labels.number_format = "0" if spec.decimals == 0 else "0." + "0" * spec.decimals
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    if spec.kind != "line":
        lowest = min(min(s.values) for s in spec.series)
        if lowest >= 0:
            value_axis.minimum_scale = 0  # bars start at zero
        tops = [v + (e or 0) for s in spec.series for v, e in zip(s.values, s.err_plus or [0] * len(s.values),
                                                                  strict=True)]
        bottoms = [v - (e or 0) for s in spec.series for v, e in zip(s.values, s.err_minus or [0] * len(s.values),
                                                                     strict=True)]
        if any(s.err_plus for s in spec.series):
            value_axis.maximum_scale = _nice(max(tops) * 1.05)
            if min(bottoms) < 0:
                value_axis.minimum_scale = -_nice(-min(bottoms) * 1.05)
    if spec.kind == "bar":
        chart.category_axis.reverse_order = True  # first category on top, as in the brief
    if spec.category_title:
        chart.category_axis.has_title = True
        chart.category_axis.axis_title.text_frame.text = spec.category_title
        _style_runs(chart.category_axis.axis_title.text_frame.paragraphs[0], 10, GREY)
    plot = chart.plots[0]
    if spec.kind != "line":
        plot.gap_width = 60
    for i, (series, s) in enumerate(zip(plot.series, spec.series, strict=True)):
        fill_color = RGBColor.from_string(PALETTE[i % len(PALETTE)][1:])
        if spec.kind == "line":
            series.format.line.color.rgb = fill_color
            series.smooth = False
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = fill_color
        if s.err_minus is not None and s.err_plus is not None:
            _error_bars(series._element, s.err_minus, s.err_plus, "y" if spec.kind == "line" else None)
        elif spec.kind != "line":
            series.data_labels.show_value = True
            series.data_labels.number_format = value_axis.tick_labels.number_format
            series.data_labels.number_format_is_linked = False
            series.data_labels.font.size = Pt(10)
    return frame


def _nice(x: float) -> float:
    """Round an axis bound up to 1, 2, 2.5 or 5 times a power of ten."""
    if x <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= x)


def _notes(slide, text: str) -> None:
    if text:
        slide.notes_slide.notes_text_frame.text = text


def _finding_slide(prs, headline: str, spec: ChartSpec, bullets: list[str], notes: str, source: str) -> None:
    slide = prs.slides.add_slide(_layout(prs, "Title Only"))
    _title(slide, headline)
    width = prs.slide_width - 2 * MARGIN
    chart_width = int(width * (0.64 if bullets else 1.0))
    top, height = Inches(1.45), prs.slide_height - Inches(2.15)
    add_chart(slide, spec, MARGIN, top, chart_width, height)
    if bullets:
        left = MARGIN + chart_width + Inches(0.25)
        _text_box(slide, bullets, left, top + Inches(0.2), prs.slide_width - MARGIN - left, height - Inches(0.2),
                  max_pt=14, min_pt=10)
    _text_box(slide, [source], MARGIN, prs.slide_height - Inches(0.6), width, Inches(0.4), max_pt=9, min_pt=8,
              color=GREY)
    _notes(slide, notes)


def _cards_slides(prs, title: str, cards: list[Card], notes: str, per_slide: int = 4) -> None:
    """Cards in a grid; a card too long for its cell gets a slide of its own, continued if need be."""
    gap, top0 = Inches(0.25), Inches(1.45)
    for start in range(0, len(cards), per_slide):
        chunk = cards[start:start + per_slide]
        cols = 2 if len(chunk) > 1 else 1
        rows = math.ceil(len(chunk) / cols)
        width = int((prs.slide_width - 2 * MARGIN - gap * (cols - 1)) / cols)
        height = int((prs.slide_height - top0 - Inches(0.5) - gap * (rows - 1)) / rows)
        if len(chunk) > 1 and any(fit_size([c.title, *c.lines], width / 914400, height / 914400, 14, 9) is None
                                  for c in chunk):
            _cards_slides(prs, title, chunk, notes, per_slide=1)
            continue
        slide = prs.slides.add_slide(_layout(prs, "Title Only"))
        _title(slide, title)
        _notes(slide, notes)
        for i, card in enumerate(chunk):
            pending = [card.title, *card.lines]
            left = MARGIN + (i % cols) * (width + gap)
            top = top0 + (i // cols) * (height + gap)
            pending = _text_box(slide, pending, left, top, width, height, max_pt=20 if len(chunk) == 1 else 14,
                                min_pt=9, bold_first=True)
            while pending:  # only a single card can overflow here: continue it on the next slide
                slide = prs.slides.add_slide(_layout(prs, "Title Only"))
                _title(slide, title)
                _notes(slide, notes)
                pending = _text_box(slide, pending, MARGIN, top0, width, height, max_pt=20, min_pt=9)


def _offer_slide(prs, card: Card, notes: str) -> None:
    """One key segment: the headline names the first offer; offers big on the left, evidence on the right."""
    slide = prs.slides.add_slide(_layout(prs, "Title Only"))
    # Numbered offers and their indented expected-effect lines go left; the evidence goes right.
    offers = [line for line in card.lines if line[:2] in {f"{i}." for i in range(1, 10)} or line.startswith("   ")]
    first = offers[0].split(". ", 1)[1] if offers else ""
    _title(slide, f"{card.title}: {first}" if first else card.title)
    facts = []
    for line in (x.strip() for x in card.lines if x not in offers):
        # "Факты: 4 078 клиентов; акционность ×0,73, средний чек ×0,58" -> one fact per line on a slide
        head, _, rest = line.partition("; ")
        facts += [head, *[part for part in rest.split(", ") if part]] if rest else [head]
    top, height = Inches(1.6), prs.slide_height - Inches(2.2)
    width = prs.slide_width - 2 * MARGIN
    left_w = int(width * 0.55)
    _text_box(slide, offers or facts[-1:], MARGIN, top, left_w, height, max_pt=22, min_pt=12, color=NAVY)
    _text_box(slide, facts, MARGIN + left_w + Inches(0.3), top, width - left_w - Inches(0.3), height,
              max_pt=18, min_pt=10, color=GREY)
    _notes(slide, notes)


TABLE_ROW = 0.62  # inches per table row: 12 pt text wrapped at most once, with LibreOffice's padding


def _table_slide(prs, title: str, table: Table, notes: str) -> None:
    """A native table; rows that do not fit continue on the next slide."""
    top, bottom_gap = Inches(1.6), Inches(1.0)
    per_slide = max(int((prs.slide_height - top - bottom_gap) / Inches(TABLE_ROW)) - 1, 1)
    if len(table.rows) > per_slide:
        _table_slide(prs, title, replace(table, rows=table.rows[:per_slide]), notes)
        _table_slide(prs, title, replace(table, rows=table.rows[per_slide:]), notes)
        return
    slide = prs.slides.add_slide(_layout(prs, "Title Only"))
    _title(slide, title)
    rows, cols = len(table.rows) + 1, len(table.header)
    width = prs.slide_width - 2 * MARGIN
    shape = slide.shapes.add_table(rows, cols, MARGIN, top, width, Emu(Inches(TABLE_ROW) * rows))
    # Columns as wide as their longest text (within limits), so long segment names do not wrap thrice.
    longest = [max(len(str(r[c])) for r in [table.header, *table.rows]) for c in range(cols)]
    weights = [min(max(n, 9), 40) for n in longest]
    for c, w in enumerate(weights):
        shape.table.columns[c].width = Emu(int(width * w / sum(weights)))
    size = 12
    for c, text in enumerate(table.header):
        cell = shape.table.cell(0, c)
        cell.text = text
        _style_runs(cell.text_frame.paragraphs[0], size, RGBColor(0xFF, 0xFF, 0xFF), bold=True)
    for r, row in enumerate(table.rows, start=1):
        for c, text in enumerate(row):
            cell = shape.table.cell(r, c)
            cell.text = str(text)
            _style_runs(cell.text_frame.paragraphs[0], size)
    if table.note:
        _text_box(slide, [table.note], MARGIN, prs.slide_height - Inches(0.9), width, Inches(0.5), max_pt=10,
                  min_pt=8, color=GREY)
    _notes(slide, notes)


def _section_slides(prs, section: Section, source: str) -> None:
    bullets = section.warnings[:1] + section.paragraphs[:2]
    # Speaker notes: the method, then every caveat of the section (SRM, leakage, exploratory labels).
    notes = " ".join([section.notes, *section.warnings, *(t.note for t in section.tables)]).strip()
    for spec in section.charts:
        headline = section.headlines.get(spec.key, spec.title)
        _finding_slide(prs, headline, spec, bullets if spec is section.charts[0] else [], notes, source)
    if section.key == "experiment":
        for table in section.tables:  # metrics, effect by segment, the promo without a control group
            _table_slide(prs, table.headline or table.title, table, notes)
    if section.key == "segments" and section.cards:
        _cards_slides(prs, section.title, section.cards, notes)
    if section.key == "propensity" and section.cards:
        _cards_slides(prs, section.cards[0].title, section.cards, notes, per_slide=1)
    if section.key == "uplift":
        _uplift_slides(prs, section, notes)
    if section.key == "offers":
        for card in section.cards:
            if card.kind in ("cluster", "action"):
                _offer_slide(prs, card, notes)
            elif card.kind == "catch_all":
                _cards_slides(prs, card.title, [replace(card, title="")], notes, per_slide=1)


def _uplift_slides(prs, section: Section, notes: str) -> None:
    """Whom to contact next time: after its two charts, the decision against everyone and the models compared."""
    for table in section.tables:
        _table_slide(prs, table.headline or table.title, table, notes)


def render_pptx(view: View, out_path: Path) -> Path:
    """Write the deck to out_path."""
    prs = Presentation(str(TEMPLATE))
    f = view.fmt
    source = f.t("doc.source", title=view.title, as_of=view.as_of) if view.as_of != "—" else \
        f.t("doc.source_plain", title=view.title)
    slide = prs.slides.add_slide(_layout(prs, "Title Slide"))
    _title(slide, view.title, size=36)
    subtitle = slide.placeholders[1]
    subtitle.text = f"{view.kicker} · {view.created}"
    _style_runs(subtitle.text_frame.paragraphs[0], 18, GREY)

    slide = prs.slides.add_slide(_layout(prs, "Title Only"))
    _title(slide, f.t("doc.summary"))
    kpis = view.summary.key_numbers[:4]
    width = prs.slide_width - 2 * MARGIN
    if kpis:
        gap = Inches(0.2)
        tile_w = int((width - gap * (len(kpis) - 1)) / len(kpis))
        for i, k in enumerate(kpis):
            left = MARGIN + i * (tile_w + gap)
            _text_box(slide, [k.value], left, Inches(1.45), tile_w, Inches(0.8), max_pt=30, min_pt=16,
                      bold_first=True, color=NAVY)
            _text_box(slide, [k.label, k.detail], left, Inches(2.25), tile_w, Inches(1.35), max_pt=12,
                      min_pt=8, color=GREY)
    lines = [v.sentence for v in view.summary.verdicts] + [x.sentence for x in view.summary.findings]
    # The deck has a slide per offer; its summary ends with what to do rather than repeating them.
    lines += [f"{a.title}: {a.text}" for a in view.summary.act_on]
    steps = view.summary.next_steps
    if steps:
        lines.append(f"{f.t('doc.next_steps')}: " + (steps[0] if len(steps) == 1 else
                                                      " ".join(f"{i}) {s}" for i, s in enumerate(steps, 1))))
    top = Inches(3.8) if kpis else Inches(1.5)
    rest = _text_box(slide, lines, MARGIN, top, width, int(prs.slide_height or 0) - top - Inches(0.4), max_pt=16,
                     min_pt=10)
    _notes(slide, " ".join(v.sentence for v in view.summary.verdicts))
    if rest:  # many treatments or segments: the summary continues rather than losing lines
        _cards_slides(prs, f.t("doc.summary"), [Card(title="", lines=rest)], "", per_slide=1)

    for section in view.sections:
        if section.key in ("quality", "methods"):
            continue
        _section_slides(prs, section, source)
    prs.save(str(out_path))
    return out_path
