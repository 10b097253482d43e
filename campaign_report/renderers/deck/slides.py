"""One function per slide kind, each taking view-model items, so that a new section plugs in by calling them:
finding (chart + "so what" lines), table, cards, summary, steps, text and title slides."""

from __future__ import annotations

import math
from dataclasses import replace

from lxml import etree
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from campaign_report.renderers.charts import ChartSpec
from campaign_report.renderers.deck.charts import add_chart
from campaign_report.renderers.deck.frame import (
    CONTENT_TOP,
    GREY,
    MARGIN,
    NAVY,
    content_height,
    content_width,
    fit_size,
    layout,
    set_notes,
    set_title,
    source_line,
    text_box,
)
from campaign_report.renderers.textmetrics import fit_columns, wrapped_lines
from campaign_report.renderers.view_model import Card, KeyNumber, Table

CELL_INSET_PT = 7.2  # 0.05 in left and right of a table cell's text
CELL_PAD_PT = 7.2  # top plus bottom
TABLE_ROWS = 8  # at most on a slide; the rest continues
FILL = 0.6  # a table shorter than this share of the content area gets taller rows


def _slide(prs, headline: str, notes: str, source: str = ""):
    slide = prs.slides.add_slide(layout(prs, "Title Only"))
    set_title(slide, headline)
    set_notes(slide, notes)
    source_line(slide, prs, source)
    return slide


COVER_PT, COVER_MIN_PT, COVER_LINES = 36, 24, 3


def title_slide(prs, title: str, subtitle: str, notes: str) -> None:
    """The cover: the report's title and its kind and date, both left-aligned. A title too long for three
    lines at 24 pt is shortened at a word; the notes keep it whole."""
    slide = prs.slides.add_slide(layout(prs, "Title Slide"))
    width = slide.shapes.title.width / 12700 - 14
    size = next((s for s in range(COVER_PT, COVER_MIN_PT - 1, -2)
                 if wrapped_lines(title, width, s, bold=True) <= COVER_LINES), COVER_MIN_PT)
    shown = title
    if wrapped_lines(shown, width, size, bold=True) > COVER_LINES:
        words = title.split()
        while len(words) > 1 and wrapped_lines(" ".join(words) + " …", width, size, bold=True) > COVER_LINES:
            words.pop()
        shown = " ".join(words)[:400] + " …"
        notes = f"{title}. {notes}"
    slide.shapes.title.text_frame.text = shown
    slide.shapes.title.text_frame.paragraphs[0].runs[0].font.size = Pt(size)
    subtitle_frame = slide.placeholders[1].text_frame
    subtitle_frame.text = subtitle
    subtitle_frame.paragraphs[0].alignment = slide.shapes.title.text_frame.paragraphs[0].alignment or PP_ALIGN.LEFT
    subtitle_frame.paragraphs[0].runs[0].font.size = Pt(18)
    subtitle_frame.paragraphs[0].runs[0].font.color.rgb = GREY
    set_notes(slide, notes)


def summary_slide(prs, headline: str, numbers: list[KeyNumber], lines: list[str], notes: str,
                  source: str) -> list[str]:
    """The decision as the title, three numbers as tiles, then what to do about it; returns the lines that
    did not fit (many treatments), for a continuation."""
    slide = _slide(prs, headline, notes, source)
    width = content_width(prs)
    top = CONTENT_TOP + Inches(0.1)
    if numbers:
        gap = Inches(0.3)
        tile_w = int((width - gap * (len(numbers) - 1)) / len(numbers))
        for i, k in enumerate(numbers):
            left = MARGIN + i * (tile_w + gap)
            text_box(slide, [k.value], left, top, tile_w, Inches(0.85), max_pt=36, min_pt=24, bold_first=True,
                     color=NAVY if k.significant else GREY)
            text_box(slide, [k.label, k.detail], left, top + Inches(0.85), tile_w, Inches(1.2), max_pt=14,
                     min_pt=11, bold_first=True, color=GREY, spacing_pt=3)
        # The lines start right under the tiles: an empty band left them at the smallest size on a full slide.
        top += Inches(2.15)
    return text_box(slide, lines, MARGIN, top, width, CONTENT_TOP + content_height(prs) - top, max_pt=18,
                    min_pt=12, bullets=True)


def finding_slide(prs, headline: str, chart: ChartSpec, so_what: list[str], notes: str, source: str) -> None:
    """One finding: the chart on two thirds of the width, the "so what" lines beside it (full width without)."""
    slide = _slide(prs, headline, notes, source)
    width = content_width(prs)
    chart_w = int(width * 0.66) if so_what else width
    add_chart(slide, chart, MARGIN, CONTENT_TOP, chart_w, content_height(prs))
    if so_what:
        left = MARGIN + chart_w + Inches(0.3)
        text_box(slide, so_what[:3], left, CONTENT_TOP + Inches(0.4), prs.slide_width - MARGIN - left,
                 content_height(prs) - Inches(0.4), max_pt=16, min_pt=12, bullets=True, spacing_pt=10)


WRAP_SLACK_PT = 8  # LibreOffice wraps a word that fits a cell to within a few points: keep that much spare


def _column_widths(table: Table, width_pt: float, size: float) -> list[float] | None:
    return fit_columns(table.header, table.rows, width_pt, size, 2 * CELL_INSET_PT + WRAP_SLACK_PT)


def _row_height(row: list[str], widths: list[float], size: float, bold_first: bool = False,
                header: bool = False) -> float:
    """A row's height from its tallest cell; the header row is set bold in every cell (bold text wraps sooner:
    measured regular, a three-line header was taken for two and the table ran over its footnote)."""
    return max(wrapped_lines(str(x), w - 2 * CELL_INSET_PT - WRAP_SLACK_PT, size, header or (bold_first and i == 0))
               for i, (x, w) in enumerate(zip(row, widths, strict=True))) * size * 1.2 + CELL_PAD_PT


def _heights(table: Table, rows: list[list[str]], widths: list[float], size: float) -> list[float]:
    """The header's height, then each of `rows`'."""
    return [_row_height(table.header, widths, size, header=True)] + [_row_height(r, widths, size, True) for r in rows]


def _master_table_style(prs) -> str | None:
    """The master's default table style (its tableStyles part names it), so the deck's tables follow it."""
    for rel in prs.part.rels.values():
        if rel.reltype.endswith("/tableStyles"):
            return etree.fromstring(rel.target_part.blob).get("def")
    return None


def _table_size(table: Table, width_pt: float, height_pt: float, max_pt: float) -> tuple[float, list[float]]:
    """The largest size (18 pt down to 10) at which the columns fit the width and, for up to TABLE_ROWS rows,
    the rows fit the height: a short table grows to use the slide, a long one shrinks to a floor."""
    size = max_pt
    while size > 10:
        widths = _column_widths(table, width_pt, size)
        if widths and sum(_heights(table, list(table.rows[:TABLE_ROWS]), widths, size)) <= height_pt:
            return size, widths
        size -= 1
    return 10, _column_widths(table, width_pt, 10) or [width_pt / len(table.header)] * len(table.header)


def table_slide(prs, headline: str, table: Table, notes: str, source: str, max_pt: float = 18,
                continued: str = "({first})") -> None:
    """A native table in the master's style, columns sized to content; rows that do not fit continue on as
    many slides as needed, split evenly (no slide with two leftover rows), each part with the table's footnote
    (number_parts then numbers their titles)."""
    width_pt = content_width(prs) / 12700
    height_pt = content_height(prs) / 12700 - (30 if table.note else 0)
    size, widths = _table_size(table, width_pt, height_pt, max_pt)
    heights = _heights(table, list(table.rows), widths, size)
    fit, used = 0, heights[0]
    while fit < min(len(table.rows), TABLE_ROWS) and used + heights[fit + 1] <= height_pt:
        used += heights[fit + 1]
        fit += 1
    fit = max(fit, 1)
    if len(table.rows) <= fit and used < FILL * height_pt:  # a short table: taller rows use the slide
        stretch = min(FILL * height_pt / used, 1.8)
        heights, used = [h * stretch for h in heights], used * stretch
    if len(table.rows) > fit:  # each part's notes name its first row, so no two slides share notes
        parts = math.ceil(len(table.rows) / fit)
        fit = math.ceil(len(table.rows) / parts)
        for i, start in enumerate(range(0, len(table.rows), fit)):
            rows = table.rows[start:start + fit]
            first_row = " · ".join(str(c) for c in rows[0][:2])
            table_slide(prs, headline, replace(table, rows=rows),
                        notes if i == 0 else f"{notes} {continued.format(first=first_row)}", source, max_pt)
        return
    slide = _slide(prs, headline, notes, source)
    shape = slide.shapes.add_table(len(table.rows) + 1, len(table.header), MARGIN, CONTENT_TOP,
                                   Emu(int(sum(widths) * 12700)), Emu(int(used * 12700)))
    properties = shape._element.graphic.graphicData.tbl.tblPr
    properties.set("firstRow", "1")
    properties.set("firstCol", "1")
    properties.set("bandRow", "0")
    style = _master_table_style(prs)
    style_id = properties.find(qn("a:tableStyleId"))
    if style and style_id is not None:
        style_id.text = style
    for c, w in enumerate(widths):
        shape.table.columns[c].width = Emu(int(w * 12700))
    for r, row in enumerate([table.header, *table.rows]):
        shape.table.rows[r].height = Emu(int(heights[r] * 12700))
        for c, text in enumerate(row):
            cell = shape.table.cell(r, c)
            cell.margin_left = cell.margin_right = Pt(CELL_INSET_PT)
            cell.margin_top = cell.margin_bottom = Pt(CELL_PAD_PT / 2)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            paragraph = cell.text_frame.paragraphs[0]
            run = paragraph.add_run()
            run.text = str(text)
            run.font.size = Pt(size)
            if r == 0 or c == 0:
                run.font.bold = True  # as the style says, for viewers that ignore table styles
            if r == 0:
                run.font.color.rgb = NAVY
            if c in table.numeric:
                paragraph.alignment = PP_ALIGN.RIGHT
    if table.note:
        text_box(slide, [table.note], MARGIN, CONTENT_TOP + Emu(int(used * 12700)) + Inches(0.1),
                 content_width(prs), Inches(0.5), max_pt=11, min_pt=10, color=GREY)


def number_parts(prs) -> None:
    """Slides in a row under one title (a table, cards or text continued) get "(1/2)", "(2/2)": a reader who
    jumps to one knows there is more, and no two slides share a title."""
    titles = [s.shapes.title.text_frame.text if s.shapes.title is not None else "" for s in prs.slides]
    start = 0
    while start < len(titles):
        end = start
        while end + 1 < len(titles) and titles[end + 1] == titles[start] and titles[start]:
            end += 1
        for i in range(start, end + 1) if end > start else ():
            frame = list(prs.slides)[i].shapes.title.text_frame
            runs = [r for p in frame.paragraphs for r in p.runs]
            runs[-1].text += f" ({i - start + 1}/{end - start + 1})"
        start = end + 1


def cards_slide(prs, headline: str, cards: list[Card], notes: str, source: str, per_slide: int = 4) -> None:
    """Cards in a grid; a card too long for its cell gets more room, continued on a next slide if need be."""
    gap = Inches(0.3)
    for start in range(0, len(cards), per_slide):
        chunk = cards[start:start + per_slide]
        cols = len(chunk) if len(chunk) <= 3 else 2  # three cards side by side at full height, not 2 + 1
        rows = math.ceil(len(chunk) / cols)
        width = int((content_width(prs) - gap * (cols - 1)) / cols)
        height = int((content_height(prs) - gap * (rows - 1)) / rows)
        if len(chunk) > 1 and any(fit_size([c.title, *c.lines], width / 914400, height / 914400, 14, 11, 3) is None
                                  for c in chunk):
            cards_slide(prs, headline, chunk, notes, source, per_slide=max(1, per_slide // 2))
            continue
        named = "; ".join(c.title for c in chunk if c.title)
        slide = _slide(prs, headline, f"{notes} {named}." if named and len(cards) > len(chunk) else notes, source)
        for i, card in enumerate(chunk):
            pending = [card.title, *card.lines] if card.title else list(card.lines)
            left = MARGIN + (i % cols) * (width + gap)
            top = CONTENT_TOP + (i // cols) * (height + gap)
            pending = text_box(slide, pending, left, top, width, height, max_pt=18 if rows == 1 else 14,
                               min_pt=11, bold_first=bool(card.title), spacing_pt=3)
            while pending:
                slide = _slide(prs, headline, f"{notes} ({pending[0]})", source)
                pending = text_box(slide, pending, MARGIN, CONTENT_TOP, content_width(prs), content_height(prs),
                                   max_pt=18, min_pt=11, spacing_pt=3)


def steps_slide(prs, headline: str, steps: list[str], who: list[str], offers: list[tuple[str, str]], notes: str,
                source: str, labels: tuple[str, str, str], expect: list[str] | None = None, more: str = "") -> None:
    """Next steps: numbered actions on the left; on the right what to expect (the figures the steps rest on),
    whom to act on and with which offer."""
    slide = _slide(prs, headline, notes, source)
    width = content_width(prs)
    side = expect or who or offers
    left_w = int(width * 0.55) if side else width
    # Alone on the slide, a short list is set larger: two steps in 18 pt would leave two thirds of it empty.
    text_box(slide, [f"{i}. {s}" for i, s in enumerate(steps, 1)], MARGIN, CONTENT_TOP + Inches(0.1), left_w,
             content_height(prs), max_pt=18, min_pt=12, spacing_pt=12 if side else 18, more=more)
    if side:
        left = MARGIN + left_w + Inches(0.4)
        lines = ([labels[2], *expect] if expect else []) + ([labels[0], *who] if who else []) + (
            [labels[1], *[f"{s}: {o}" for s, o in offers]] if offers else [])
        text_box(slide, lines, left, CONTENT_TOP + Inches(0.1), prs.slide_width - MARGIN - left,
                 content_height(prs), max_pt=16, min_pt=11, spacing_pt=6, color=GREY, more=more)


def text_slide(prs, headline: str, paragraphs: list[str], notes: str, source: str) -> None:
    """Plain paragraphs (methods): one full-width column when they fit it at 14 pt or more, else two
    columns; what does not fit continues on the next slide."""
    width, height = content_width(prs), content_height(prs)
    size = fit_size(paragraphs, width / 914400, height / 914400, 20, 14, 12)
    if size is not None:  # short: one column, up to 20 pt with room between paragraphs
        slide = _slide(prs, headline, notes, source)
        text_box(slide, paragraphs, MARGIN, CONTENT_TOP, width, height, max_pt=18, min_pt=14, spacing_pt=12)
        return
    pending = list(paragraphs)
    while pending:
        first = pending == paragraphs
        slide = _slide(prs, headline, notes if first else f"{notes} ({pending[0]})", source)
        col_w = int((width - Inches(0.4)) / 2)
        for col in range(2):
            if pending:
                pending = text_box(slide, pending, MARGIN + col * (col_w + Inches(0.4)), CONTENT_TOP, col_w,
                                   height, max_pt=14, min_pt=11, spacing_pt=6)
