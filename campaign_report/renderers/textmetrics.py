"""Text widths in points for wrapping chart labels and checking that titles fit.

Measured with the glyph advances of Liberation Sans, which has Arial's metrics, so a width measured here is
the width PowerPoint shows with the deck's theme font (Arial) and LibreOffice shows with its substitute.
Where the font is not installed, an average glyph width stands in (0.55 em regular, 0.6 em bold), which
errs on the wide side for Latin and Cyrillic text.
"""

from __future__ import annotations

import functools

from fontTools.ttLib import TTFont
from PIL import ImageFont

FONT_FILES = {False: "LiberationSans-Regular.ttf", True: "LiberationSans-Bold.ttf"}
FALLBACK_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
MEASURE_SIZE = 100  # glyph advances at 100 px, scaled linearly: hinting does not distort them at this size


@functools.lru_cache(maxsize=2)
def _font(bold: bool) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(FONT_FILES[bold], MEASURE_SIZE)
    except OSError:
        return None


@functools.lru_cache(maxsize=2)
def _fallback(bold: bool) -> tuple[frozenset[int], ImageFont.FreeTypeFont | None]:
    """The characters Liberation Sans has, and the font that draws the others. It has no ₽: LibreOffice and
    WeasyPrint draw it in DejaVu Sans, 0.64 em wide, where Liberation's empty box measures 0.37 em."""
    font = _font(bold)
    if font is None:
        return frozenset(), None
    covered = frozenset(TTFont(font.path, lazy=True).getBestCmap())
    try:
        return covered, ImageFont.truetype(FALLBACK_FILES[bold], MEASURE_SIZE)
    except OSError:
        return covered, None


def font_available() -> bool:
    """Whether widths are measured (Liberation Sans installed) rather than estimated."""
    return _font(False) is not None


@functools.lru_cache(maxsize=32768)
def _advance_em(text: str, bold: bool) -> float:
    """The advance width of a text in em: widths scale linearly with size, so one measure serves every size
    (the deck's fit-to-box search tries a dozen sizes of the same words)."""
    font = _font(bold)
    if font is None:
        return len(text) * (0.6 if bold else 0.55)
    covered, fallback = _fallback(bold)
    missing = [c for c in text if ord(c) not in covered]
    if not missing:
        return font.getlength(text) / MEASURE_SIZE
    kept = "".join(c for c in text if ord(c) in covered)
    extra = sum(fallback.getlength(c) / MEASURE_SIZE if fallback is not None else 0.75 for c in missing)
    return (font.getlength(kept) / MEASURE_SIZE if kept else 0.0) + extra


def text_width(text: str, size_pt: float, bold: bool = False) -> float:
    """The advance width of one line of text in points."""
    return _advance_em(text, bold) * size_pt


def wrap(text: str, width_pt: float, size_pt: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to a width in points; a word longer than the width gets a line of its own.

    A line's width is the sum of its words and spaces, each measured once: this ignores kerning across a
    space, which makes a line at most about 1 % wider than measured whole, so the wrap errs towards breaking.
    """
    limit = width_pt / size_pt
    space = _advance_em(" ", bold)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            advance = _advance_em(word, bold)
            if words and used + space + advance > limit:
                lines.append(" ".join(words))
                words, used = [], 0.0
            used += (space if words else 0.0) + advance
            words.append(word)
        lines.append(" ".join(words))
    return lines


def wrapped_lines(text: str, width_pt: float, size_pt: float, bold: bool = False) -> int:
    """How many lines the text takes in a box of that width."""
    return len(wrap(text, width_pt, size_pt, bold))


def longest_word(text: str, size_pt: float, bold: bool = False) -> float:
    """The width of the widest word: a column narrower than this breaks a word."""
    # Split at ordinary spaces and line breaks only: a no-break space (thousands, "< 0,001") joins its word.
    return max((text_width(w, size_pt, bold) for w in text.replace("\n", " ").split(" ")), default=0.0)


def fit_columns(header: list[str], rows: list[list[str]], width_pt: float, size_pt: float,
                inset_pt: float = 14.4) -> list[float] | None:
    """Column widths (points) sized to their content within width_pt: no column narrower than its longest
    word (so no word breaks), wide text columns wrapping first; None if the words alone do not fit. The
    first column is measured bold (the key column is set bold in both documents).

    inset_pt is the cell's left plus right padding. A table with room to spare widens every column in
    proportion, so it fills its width.
    """
    cols = range(len(header))
    floor = [max([longest_word(header[c], size_pt, bold=True)]
                 + [longest_word(str(r[c]), size_pt, bold=c == 0) for r in rows]) + inset_pt for c in cols]
    want = [max(min(max([text_width(header[c], size_pt, bold=True)]
                        + [text_width(str(r[c]), size_pt, bold=c == 0) for r in rows]) + inset_pt, width_pt * 0.45),
                floor[c]) for c in cols]
    if sum(floor) > width_pt:
        return None
    if sum(want) <= width_pt:
        return [w * width_pt / sum(want) for w in want]
    spare = width_pt - sum(floor)
    extra = [w - f for w, f in zip(want, floor, strict=True)]
    return [f + e * spare / sum(extra) for f, e in zip(floor, extra, strict=True)]
