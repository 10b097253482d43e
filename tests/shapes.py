"""The shape matrix: the demo's data re-cut into shapes the examples do not have, and the documents read back.

Each shape writes its own files and config from one small demo (parts removed, meanings inverted, other
file dialects), runs the report, and returns every text a reader sees: the brief's pages, the deck's slides
and notes, the e-mail. `manager_text` is what precedes the appendices (where config keys and file names
belong); the checks in test_shapes.py read these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pypdf import PdfReader

from tests.conftest import ROOT

FAST = "\nn_iter = 2\nsearch_sample = 800\ncv_folds = 3\nmodels = [\"logreg\", \"tree\", \"boosting\"]\n"


@dataclass
class Shape:
    """One case of the matrix: how its files and config differ from the demo's."""

    name: str
    language: str = "ru"
    transform: Callable[[dict[str, pd.DataFrame]], None] | None = None  # edits the demo's frames in place
    config: Callable[[str], str] | None = None  # edits the demo's config text
    writer: str = "csv"  # how transactions.csv is written: csv, aligned (whitespace), semicolon (; , cp1251)
    stated_bad: bool = False  # the config says the label's outcome is bad (decline words allowed)
    money: bool = True  # the data hold profit or a stated margin (the word profit allowed)
    cuts: tuple[str, ...] = ()  # configured cuts of the readout that must appear in the brief
    expect_issues: tuple[str, ...] = ()  # data-quality findings the appendix must list
    notes: list[str] = field(default_factory=list)


@dataclass
class Documents:
    brief: list[str]  # page texts
    deck: list[str]  # per slide: every text on it and its notes
    email: str
    results: object

    @property
    def all_text(self) -> str:
        return "\n".join([*self.brief, *self.deck, self.email])

    def manager_text(self, appendix_titles: tuple[str, ...]) -> str:
        """Page 1 to the first appendix, the slides before the appendix divider, and the e-mail."""
        brief = "\n".join(self.brief)
        cut = min((brief.find(t) for t in appendix_titles if t in brief), default=len(brief))
        deck: list[str] = []
        for slide in self.deck:
            if any(t in slide for t in appendix_titles):
                break
            deck.append(slide)
        return "\n".join([brief[:cut], *deck, self.email])


def _folded(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def read_documents(out: Path, results: object) -> Documents:
    brief = [_folded(p.extract_text()) for p in PdfReader(out / "brief.pdf").pages]
    deck = []
    for slide in Presentation(out / "deck.pptx").slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
            if getattr(shape, "has_chart", False) and shape.has_chart:
                chart = shape.chart
                if chart.has_title:
                    parts.append(chart.chart_title.text_frame.text)
                for plot in chart.plots:
                    parts += [str(c) for c in plot.categories]
                    parts += [s.name for s in plot.series]
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
        deck.append(_folded(" \n ".join(parts)))
    email = json.loads((out / "email.json").read_text(encoding="utf-8"))
    return Documents(brief, deck, _folded(email["subject"] + "\n" + email["text"]), results)


def _write_transactions(frame: pd.DataFrame, path: Path, writer: str) -> None:
    if writer == "csv":
        frame.to_csv(path, index=False)
    elif writer == "semicolon":
        text = frame.copy()
        for col in text.columns:
            if pd.api.types.is_float_dtype(text[col]):
                text[col] = text[col].map(lambda v: f"{v:.2f}".replace(".", ","))
        text.to_csv(path, index=False, sep=";", encoding="cp1251")
    elif writer == "aligned":
        # Columns aligned with runs of spaces, CRLF line ends, no value holding a space (as POS logs write).
        text = frame.astype(str).map(lambda v: v.replace(" ", "_"))
        widths = {c: max(len(c), int(text[c].str.len().max())) + 3 for c in text.columns}
        lines = ["".join(c.ljust(widths[c]) for c in text.columns).rstrip()]
        lines += ["".join(v.ljust(widths[c]) for c, v in zip(text.columns, row, strict=True)).rstrip()
                  for row in text.itertuples(index=False)]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    else:
        raise ValueError(writer)


def demo_frames(demo: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(demo / f"{name}.csv", dtype={"customer_id": str}, keep_default_na=False,
                              na_values=[""])
            for name in ("customers", "transactions", "assignment")}


def build_case(shape: Shape, demo: Path, work: Path) -> Path:
    """Write the shape's files and config under `work`; returns the config's path."""
    frames = demo_frames(demo)
    if shape.transform is not None:
        shape.transform(frames)
    work.mkdir(parents=True, exist_ok=True)
    frames["customers"].to_csv(work / "customers.csv", index=False)
    frames["assignment"].to_csv(work / "assignment.csv", index=False)
    _write_transactions(frames["transactions"], work / "transactions.txt", shape.writer)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('"demo_data/transactions.csv"', '"transactions.txt"').replace('"demo_data/', '"')
    text = text.replace('language = "ru"', f'language = "{shape.language}"')
    text = text.replace("threshold = 0.8", "threshold = 0.8" + FAST)
    text = text.replace("[uplift]", "[uplift]\nfolds = 2\nbootstrap = 50\nmodels = [\"t_linear\"]", 1)
    if shape.config is not None:
        text = shape.config(text)
    path = work / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def without_keys(*names: str) -> Callable[[str], str]:
    """A config edit: the lines setting these keys removed (wherever they are)."""
    pattern = re.compile(r"^(" + "|".join(re.escape(n) for n in names) + r")\s*=.*$\n?", re.MULTILINE)
    return lambda text: pattern.sub("", text)


def chain(*edits: Callable[[str], str]) -> Callable[[str], str]:
    def run(text: str) -> str:
        for edit in edits:
            text = edit(text)
        return text
    return run


def replace(old: str, new: str) -> Callable[[str], str]:
    def run(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)
    return run
