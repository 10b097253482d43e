"""Regenerate templates/deck.pptx: python-pptx's default master re-laid out for 16:9.

The default template keeps 4:3 placeholder positions when the slide size changes, so every layout's
placeholders are moved here. A company can replace deck.pptx with its own master as long as it has
layouts named "Title Slide", "Title Only" and "Title and Content".
Run: .venv/bin/python tools/make_deck_template.py
"""

from pathlib import Path

from pptx import Presentation
from pptx.util import Inches, Pt

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.6)


def main() -> None:
    """Write the 16:9 master."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    title_box = (MARGIN, Inches(0.35), WIDTH - 2 * MARGIN, Inches(1.0))
    body_box = (MARGIN, Inches(1.5), WIDTH - 2 * MARGIN, HEIGHT - Inches(2.1))
    for layout in [prs.slide_master, *prs.slide_layouts]:
        for ph in layout.placeholders:
            kind = ph.placeholder_format.type
            name = str(kind)
            if layout.name == "Title Slide" and "CENTER_TITLE" in name:
                box = (MARGIN, Inches(2.3), WIDTH - 2 * MARGIN, Inches(1.6))
            elif layout.name == "Title Slide" and "SUBTITLE" in name:
                box = (MARGIN, Inches(4.1), WIDTH - 2 * MARGIN, Inches(1.2))
            elif "TITLE" in name:
                box = title_box
            elif "BODY" in name or "OBJECT" in name:
                box = body_box
            elif "DATE" in name:
                box = (MARGIN, HEIGHT - Inches(0.5), Inches(3), Inches(0.35))
            elif "FOOTER" in name:
                box = (Inches(4.2), HEIGHT - Inches(0.5), Inches(5), Inches(0.35))
            elif "SLIDE_NUMBER" in name:
                box = (WIDTH - MARGIN - Inches(1.5), HEIGHT - Inches(0.5), Inches(1.5), Inches(0.35))
            else:
                continue
            ph.left, ph.top, ph.width, ph.height = box
    for ph in prs.slide_master.placeholders:
        if "TITLE" in str(ph.placeholder_format.type):
            for p in ph.text_frame.paragraphs:
                p.font.size = Pt(28)
    prs.save(str(Path(__file__).resolve().parent.parent / "campaign_report" / "templates" / "deck.pptx"))


if __name__ == "__main__":
    main()
