"""What every slide shares: the title band, text boxes that fit their text, the source line, speaker notes.

No run sets a font family: text inherits the master's theme font (Arial), so an office PC shows what
was measured here with Liberation Sans (same metrics). Sizes follow DOCUMENT_STYLE: title 26 pt bold
(from the master), body 14–18 pt, labels 11–12 pt, the source line 9 pt grey.
"""

from __future__ import annotations

from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR
from pptx.util import Emu, Inches, Pt

from campaign_report.renderers.textmetrics import wrapped_lines
from campaign_report.renderers.wording import upper_first

NAVY = RGBColor(0x1F, 0x4E, 0x79)
GREY = RGBColor(0x59, 0x59, 0x59)
MARGIN = Inches(0.5)
CONTENT_TOP = Inches(1.45)  # below the title band (0.3 in + 1.0 in) and a gap
SOURCE_TOP = Inches(7.5 - 0.45)
CONTENT_BOTTOM = Inches(7.5 - 0.55)  # above the source line
TITLE_PT = 26  # the master's title size
TITLE_LINES = 2
LINE_HEIGHT = 1.2
EMU_PER_PT = 12700
BOX_INSET_PT = 14.4  # python-pptx text boxes: 0.1 in left and right insets


def title_fits(text: str, width_emu: int, size_pt: float = TITLE_PT) -> bool:
    """Whether a title stays within two lines at the master's size in a box of that width."""
    return wrapped_lines(text, width_emu / EMU_PER_PT - BOX_INSET_PT, size_pt, bold=True) <= TITLE_LINES


def set_title(slide, text: str) -> None:
    """The slide's message in the layout's title placeholder; size, weight and colour come from the master."""
    shape = slide.shapes.title
    shape.text_frame.text = text
    shape.text_frame.word_wrap = True
    shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE


def text_height_pt(lines: list[str], width_emu: int, size_pt: float, spacing_pt: float) -> float:
    """The height a list of paragraphs takes when wrapped in a box of that width."""
    width_pt = width_emu / EMU_PER_PT - BOX_INSET_PT
    return sum(wrapped_lines(line, width_pt, size_pt) * size_pt * LINE_HEIGHT + spacing_pt for line in lines)


TYPE_SCALE = (36, 28, 24, 20, 18, 16, 14, 12, 11, 10, 9)  # the deck's type sizes (DOCUMENT_STYLE: body 14-18)


def fit_size(lines: list[str], width_in: float, height_in: float, max_pt: float, min_pt: float = 10,
             spacing_pt: float = 6) -> float | None:
    """The largest size of the type scale (between min_pt and max_pt) at which the lines fit the box, or None
    if none does. Sizes come from one scale so that body text reads the same on every slide (16, 14 or 12 pt,
    not 14.5 on one and 12.5 on the next)."""
    sizes = sorted({max_pt, min_pt, *(s for s in TYPE_SCALE if min_pt < s < max_pt)}, reverse=True)
    for size in sizes:
        if text_height_pt(lines, int(width_in * 914400), size, spacing_pt) <= height_in * 72 - 7.2:
            return size
    return None


def estimated_lines(text: str, width_in: float, size_pt: float) -> int:
    """Wrapped line count of a text at a font size in a box width (Arial metrics)."""
    return wrapped_lines(text, width_in * 72 - BOX_INSET_PT, size_pt)


def text_box(slide, lines: list[str], left: int, top: int, width: int, height: int, max_pt: float = 16,
             min_pt: float = 12, bold_first: bool = False, color: RGBColor | None = None, bullets: bool = False,
             spacing_pt: float = 6, more: str = "") -> list[str]:
    """Add the lines that fit at the largest size between max_pt and min_pt; return those that did not.
    With `more` (a text with {n}), lines that do not fit are counted on a last line instead of vanishing."""
    # A bullet is a sentence of its own: it starts in capitals, whatever phrase (a tile's detail) it was made of.
    marked = [("• " + upper_first(line) if bullets else line) for line in lines]
    shown = list(marked)
    size = fit_size(shown, width / 914400, height / 914400, max_pt, min_pt, spacing_pt)
    while size is None and len(shown) > 1:
        shown = shown[:-1]
        size = fit_size(shown, width / 914400, height / 914400, max_pt, min_pt, spacing_pt)
    if more and len(shown) < len(marked):
        while shown:
            tail = more.format(n=len(marked) - len(shown))
            size = fit_size([*shown, tail], width / 914400, height / 914400, max_pt, min_pt, spacing_pt)
            if size is not None:
                break
            shown = shown[:-1]
        dropped = lines[len(shown):]
        shown = [*shown, more.format(n=len(dropped))]
        size = size or min_pt
        _fill(slide, shown, left, top, width, height, size, bold_first, color, spacing_pt)
        return dropped
    size = size or min_pt
    _fill(slide, shown, left, top, width, height, size, bold_first, color, spacing_pt)
    return lines[len(shown):]


def _fill(slide, shown: list[str], left: int, top: int, width: int, height: int, size: float, bold_first: bool,
          color: RGBColor | None, spacing_pt: float) -> None:
    frame = slide.shapes.add_textbox(Emu(left), Emu(top), Emu(width), Emu(height)).text_frame
    frame.word_wrap = True
    for i, line in enumerate(shown):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.space_after = Pt(spacing_pt)
        run = p.add_run()
        run.text = line
        run.font.size = Pt(size)
        if bold_first and i == 0:
            run.font.bold = True
        if color is not None:
            run.font.color.rgb = color


def source_line(slide, prs, text: str) -> None:
    """The footnote: where the numbers come from, 9 pt grey, at the bottom margin."""
    if text:
        text_box(slide, [text], MARGIN, SOURCE_TOP, prs.slide_width - 2 * MARGIN, Inches(0.35), max_pt=9,
                 min_pt=9, color=GREY)


def kicker(slide, prs, text: str) -> None:
    """A small grey label above the title band ("APPENDIX"): the reader sees where the story ends."""
    text_box(slide, [text.upper()], MARGIN, Inches(0.04), prs.slide_width - 2 * MARGIN, Inches(0.26), max_pt=9,
             min_pt=9, color=GREY)


def set_notes(slide, text: str) -> None:
    """Speaker notes: what the slide shows, how to read it, the method and its caveat."""
    slide.notes_slide.notes_text_frame.text = text


def layout(prs, name: str):
    """A layout of the master by name (a company master may order them differently)."""
    return next((item for item in prs.slide_layouts if item.name == name), prs.slide_layouts[-1])


def content_height(prs) -> int:
    """The area below the title band and above the source line."""
    return int(CONTENT_BOTTOM - CONTENT_TOP)


def content_width(prs) -> int:
    """The width between the side margins."""
    return int(prs.slide_width - 2 * MARGIN)
