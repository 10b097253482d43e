"""Regenerate templates/deck.pptx: the deck's own 16:9 master.

What the master carries, so that no slide has to set it run by run:
- theme fonts: Arial for titles and body (every office PC has it; Liberation Sans has the same metrics, so
  what LibreOffice shows on Linux is what PowerPoint shows); the theme colours' accent 1 is the documents'
  navy;
- one title style: 26 pt bold navy, left-aligned, in a band 0.5 in from the edges, 1.0 in tall (two lines);
- a table style "Campaign report" (light rules, no fills, header bold navy over a navy rule, the first
  column bold), set as the presentation's default table style;
- layouts named "Title Slide", "Title Only" and "Title and Content" with the placeholders moved to 16:9
  (python-pptx's default template keeps 4:3 positions when the slide size changes).

A company can replace deck.pptx with its own master as long as it has those three layout names.
Run: .venv/bin/python tools/make_deck_template.py
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Inches

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
THEME_FONT = "Arial"
NAVY = "1F4E79"
TITLE_PT = 26
TABLE_STYLE_ID = "{6B1C2D4E-3F5A-4B6C-8D7E-9F0A1B2C3D4E}"
TABLE_STYLE_NAME = "Campaign report"
OUT = Path(__file__).resolve().parent.parent / "campaign_report" / "templates" / "deck.pptx"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"


def _ln(width_emu: int | None, color: str | None) -> str:
    if width_emu is None:
        return "<a:ln><a:noFill/></a:ln>"
    return f'<a:ln w="{width_emu}"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill></a:ln>'


TABLE_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<a:tblStyleLst xmlns:a="{A}" def="{TABLE_STYLE_ID}"><a:tblStyle styleId="{TABLE_STYLE_ID}" \
styleName="{TABLE_STYLE_NAME}">
<a:wholeTbl><a:tcTxStyle><a:fontRef idx="minor"><a:prstClr val="black"/></a:fontRef><a:srgbClr val="222222"/>\
</a:tcTxStyle><a:tcStyle><a:tcBdr><a:left>{_ln(None, None)}</a:left><a:right>{_ln(None, None)}</a:right>\
<a:top>{_ln(None, None)}</a:top><a:bottom>{_ln(6350, "BFBFBF")}</a:bottom><a:insideH>{_ln(6350, "D9D9D9")}\
</a:insideH><a:insideV>{_ln(None, None)}</a:insideV></a:tcBdr><a:fill><a:noFill/></a:fill></a:tcStyle></a:wholeTbl>
<a:firstCol><a:tcTxStyle b="on"><a:fontRef idx="minor"><a:prstClr val="black"/></a:fontRef>\
<a:srgbClr val="222222"/></a:tcTxStyle><a:tcStyle><a:tcBdr/><a:fill><a:noFill/></a:fill></a:tcStyle></a:firstCol>
<a:firstRow><a:tcTxStyle b="on"><a:fontRef idx="minor"><a:prstClr val="black"/></a:fontRef>\
<a:srgbClr val="{NAVY}"/></a:tcTxStyle><a:tcStyle><a:tcBdr><a:bottom>{_ln(15875, NAVY)}</a:bottom></a:tcBdr>\
<a:fill><a:noFill/></a:fill></a:tcStyle></a:firstRow>
</a:tblStyle></a:tblStyleLst>"""


def _theme(blob: bytes) -> bytes:
    text = blob.decode("utf-8")
    for kind in ("majorFont", "minorFont"):
        text = re.sub(rf'(<a:{kind}><a:latin typeface=")[^"]*(")', rf"\g<1>{THEME_FONT}\g<2>", text)
    text = re.sub(r'(<a:accent1><a:srgbClr val=")[^"]*(")', rf"\g<1>{NAVY}\g<2>", text)
    return text.replace('name="Office Theme"', 'name="Campaign report"').encode("utf-8")


def _title_style(prs) -> None:
    """Title 26 pt bold navy, left-aligned; body text in the theme font at 16 pt, no bullets by default."""
    styles = prs.slide_master.element.find(f"{{{P}}}txStyles")
    title = styles.find(f"{{{P}}}titleStyle/{{{A}}}lvl1pPr")
    title.set("algn", "l")
    rpr = title.find(f"{{{A}}}defRPr")
    rpr.set("sz", str(TITLE_PT * 100))
    rpr.set("b", "1")
    for child in list(rpr):
        if child.tag == f"{{{A}}}solidFill":
            rpr.remove(child)
    fill = etree.Element(f"{{{A}}}solidFill")
    etree.SubElement(fill, f"{{{A}}}srgbClr").set("val", NAVY)
    rpr.insert(0, fill)
    body = styles.find(f"{{{P}}}bodyStyle/{{{A}}}lvl1pPr/{{{A}}}defRPr")
    body.set("sz", "1600")


def main() -> None:
    """Write the 16:9 master."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    title_box = (MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(1.0))
    body_box = (MARGIN, Inches(1.45), WIDTH - 2 * MARGIN, HEIGHT - Inches(2.0))
    for layout in [prs.slide_master, *prs.slide_layouts]:
        for ph in layout.placeholders:
            name = str(ph.placeholder_format.type)
            if layout.name == "Title Slide" and "CENTER_TITLE" in name:
                box = (MARGIN, Inches(2.4), WIDTH - 2 * MARGIN, Inches(1.6))
            elif layout.name == "Title Slide" and "SUBTITLE" in name:
                box = (MARGIN, Inches(4.1), WIDTH - 2 * MARGIN, Inches(1.0))
            elif "TITLE" in name:
                box = title_box
            elif "BODY" in name or "OBJECT" in name:
                box = body_box
            elif "DATE" in name:
                box = (MARGIN, HEIGHT - Inches(0.45), Inches(3), Inches(0.3))
            elif "FOOTER" in name:
                box = (Inches(4.2), HEIGHT - Inches(0.45), Inches(5), Inches(0.3))
            elif "SLIDE_NUMBER" in name:
                box = (WIDTH - MARGIN - Inches(1.5), HEIGHT - Inches(0.45), Inches(1.5), Inches(0.3))
            else:
                continue
            ph.left, ph.top, ph.width, ph.height = box
            if "TITLE" in name and layout.name != "Title Slide":
                ph.text_frame.word_wrap = True
    _title_style(prs)
    for rel in prs.part.rels.values():
        if rel.reltype == RT.TABLE_STYLES:
            rel.target_part._blob = TABLE_STYLES.encode("utf-8")
    theme = prs.slide_master.part.part_related_by(RT.THEME)
    theme._blob = _theme(theme.blob)
    prs.save(str(OUT))


if __name__ == "__main__":
    main()
