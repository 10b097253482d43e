"""The deck: view model -> python-pptx on templates/deck.pptx, native editable charts, speaker notes.

The storyline: title -> executive summary (the decision and three numbers) -> one slide per finding (an
action title, one chart, two or three "so what" lines) -> next steps -> appendix (diagnostics, detail
tables, methods, data quality). The slide kinds live in renderers/deck/slides.py and take view-model items,
so a new section adds its findings with ``finding_slides`` / ``table_slide`` and its diagnostics by listing
chart keys in ``Section.diagnostics``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pptx import Presentation

from campaign_report.renderers.charts import ChartSpec
from campaign_report.renderers.deck.frame import content_width, estimated_lines, fit_size, kicker, title_fits
from campaign_report.renderers.deck.slides import (
    cards_slide,
    finding_slide,
    number_parts,
    steps_slide,
    summary_slide,
    table_slide,
    text_slide,
    title_slide,
)
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Card, Section, Table, View
from campaign_report.renderers.wording import first_clause, lower_first, upper_first

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "deck.pptx"
APPENDIX = ("details", "quality", "methods")

__all__ = ["estimated_lines", "finding_slides", "fit_size", "render_pptx"]


def _sentence(text: str) -> str:
    """The text ending as a sentence: a closing quote ends one only after a full stop inside it (…«никому»
    needs its own)."""
    text = text.strip()
    closed = text[-1:] in ".!?…" or (text[-1:] in "»\"”" and text[-2:-1] in ".!?…")
    return text if not text or closed else text + "."


def _split_sentences(text: str) -> list[str]:
    """Sentences, split after . ! ? and a space outside brackets: "(см. «Качество данных»)" is not a sentence end
    (split there, the notes kept the stray tail "«Качество данных»).")."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth <= 0 and ch in ".!?" and i + 1 < len(text) and text[i + 1].isspace():
            out.append(text[start:i + 1].strip())
            start = i + 1
    out.append(text[start:].strip())
    return [s for s in out if s]


def _first_sentences(text: str, n: int = 1) -> str:
    parts = _split_sentences(text.replace("\n", " "))
    return _sentence(" ".join(parts[:n])) if parts else ""


def _without_asides(text: str) -> str:
    """The text without its bracketed asides (intervals, bases, assumptions): what a presenter says aloud."""
    while True:
        shorter = re.sub(r"\s*\([^()]*\)", "", text)
        if shorter == text:
            return re.sub(r"\s+([,;.:])", r"\1", shorter)
        text = shorter


def _pick_title(prs, *candidates: str) -> str:
    """The first candidate that stays within two lines at the master's title size; else the last, shortened
    at a word to two lines with an ellipsis (use _title to keep the full text for the notes)."""
    return _title(prs, *candidates)[0]


def _title(prs, *candidates: str) -> tuple[str, str]:
    """(the slide's title, the full text it stands for): a title never runs past two lines."""
    width = content_width(prs)
    candidates = tuple(upper_first(c) for c in candidates)
    for text in candidates:
        text = text.strip().rstrip(".")
        if text and title_fits(text, width):
            return text, text
    full = next((c.strip().rstrip(".") for c in candidates if c.strip()), "")
    words = full.split()
    while len(words) > 1 and not title_fits(" ".join(words) + " …", width):
        words.pop()
    short = " ".join(words)
    while short and not title_fits(short + " …", width):  # one word longer than two lines: cut it
        short = short[:-1]
    return short + " …", full


def chart_notes(f: Formatter, headline: str, chart: ChartSpec, section: Section, first: bool = True) -> str:
    """What the slide shows, how to read its chart, the method (on the section's first slide only: a paragraph
    is not repeated from slide to slide) and its caveat: two to five sentences."""
    read = _how_to_read(f, chart)
    caveat = section.warnings[0] if section.warnings and first else ""
    parts = [_sentence(headline), _sentence(chart.title), read,
             _first_sentences(section.notes) if first else "", *section.so_what.get(chart.key, [])[:1],
             section.chart_methods.get(chart.key, ""), _sentence(caveat)]
    # Each part a sentence of its own (a slide's line may start lower-case: the slide capitalises bullets); a title
    # equal to the headline is said once.
    return " ".join(dict.fromkeys(upper_first(_sentence(x)) for x in parts if x))


def _how_to_read(f: Formatter, chart: ChartSpec) -> str:
    """How to read the chart, saying only what this chart draws: whiskers of the kind it has, the accent
    only where a category is highlighted, grey-for-noise only where a point is muted."""
    if chart.kind == "line":
        axis = f.t("deck.read_line_axis", axis=chart.category_title) if chart.category_title else ""
        return f.t("deck.read_line", axis=axis, unit=chart.value_title,
                   series=", ".join(s.name for s in chart.series))
    parts = [f.t("deck.read_bar", unit=f.quote(chart.value_title)) if chart.value_title else f.t("deck.read_bar_plain")]
    if any(s.err_plus for s in chart.series):
        parts.append(f.t("deck.read_whiskers_std" if chart.whiskers == "std" else "deck.read_whiskers_ci"))
    if chart.highlight and len(chart.series) == 1:
        parts.append(f.t("deck.read_accent"))
    if any(any(s.muted or ()) for s in chart.series):
        parts.append(f.t("deck.read_muted"))
    return " ".join(parts)


def table_notes(f: Formatter, headline: str, table: Table, section: Section) -> str:
    firsts = [str(r[0]) for r in table.rows]
    named = ", ".join(firsts)
    # Rows are named by their first cells only when those name them: distinct, few and short.
    read = f.t("deck.read_table", rows=named, columns=", ".join(table.header)) \
        if len(set(firsts)) == len(firsts) <= 6 and len(named) <= 160 else \
        f.t("deck.read_table_count", rows=f.plural(len(table.rows), "row"), columns=", ".join(table.header))
    note = _sentence(table.note)
    # The section's method sentence, unless the table's note already says it (the offers' both began with it).
    method = _first_sentences(section.notes)
    return " ".join(x for x in (_sentence(headline), read, note, "" if method and method in note else method) if x)


def finding_slides(prs, f: Formatter, section: Section, source: str, appendix: bool = False) -> None:
    """A section's charts as finding slides (or, with appendix=True, its diagnostic charts)."""
    shown = 0
    for chart in section.charts:
        if (chart.key in section.diagnostics or section.key in APPENDIX) != appendix:
            continue
        headline, full = _title(prs, section.headlines.get(chart.key, ""), chart.title)
        so_what = section.so_what.get(chart.key, [])
        notes = chart_notes(f, full, chart, section, first=shown == 0)
        finding_slide(prs, headline, chart, so_what, notes, source)
        shown += 1


def _table_slides(prs, f: Formatter, section: Section, source: str, appendix: bool) -> None:
    for table in [*section.tables, *section.deck_tables]:
        if not table.headline or table.appendix != appendix or table.abridged:
            continue  # an abridged table's whole version is in the appendix's details
        if table in section.deck_tables and not appendix and len(table.rows) <= 2:
            continue  # an offer plan of one or two segments is on the next-steps slide already
        headline, full = _title(prs, table.headline, table.title)
        table_slide(prs, headline, table, table_notes(f, full, table, section), source,
                    continued=f.t("deck.notes_continued"))


def _summary(prs, view: View, source: str) -> str:
    f, s = view.fmt, view.summary
    decision = s.verdicts[0] if s.verdicts else None
    finding = s.findings[0].sentence if s.findings else ""
    # Without a test's decision, the title joins the findings: one of them alone is the next slide's title.
    joined = "; ".join(lower_first(x.sentence.rstrip(".")) if i else x.sentence.rstrip(".")
                       for i, x in enumerate(s.findings[:2])) if not decision and len(s.findings) > 1 else ""
    # Without a test, the decision is the first thing to do (its first clause), when there is one.
    # The step with its offer named first; without the offer when that does not fit two lines.
    step = first_clause(s.next_steps[0], at_colon=False) if s.next_steps and not decision else ""
    short_step = first_clause(s.next_steps[0]) if s.next_steps and not decision else ""
    # The decision with what it is worth, when both fit two lines; else the decision alone.
    worth = f"{decision.headline}; {s.worth}" if decision and s.worth and decision.code == "win" else ""
    # A section's headline is its own slide's title: the summary taking it made two slides "(1/2)", "(2/2)" of
    # one title. Without a decision or a step that fits, the title is the three key numbers.
    taken = {x.headline for x in view.sections if x.headline} | {h for x in view.sections for h in x.headlines.values()}
    candidates = [worth, decision.headline if decision else "", step, short_step,
                  *(c for c in (joined, finding, finding.split(";")[0]) if c not in taken)]
    by_numbers = ", ".join(f"{lower_first(k.label)} — {k.value}" for k in s.key_numbers[:3])
    headline = _pick_title(prs, *candidates, f"{f.t('doc.summary')}: {by_numbers}" if by_numbers else "",
                           f.t("doc.summary"))
    # The decision (every arm), what it is worth, two other findings, whom to act on and what to do first:
    # each finding has its own slide, so the summary keeps to what a director acts on.
    # With a test's decision, one other finding (each has its own slide): seven lines at 12 pt were a list, not
    # a decision. Without one, two findings.
    # One arm's verdict is the title and the first tile already: its sentence would say them a third time.
    # Several arms need their sentences (a title names one).
    lines = [v.sentence for v in s.verdicts] if len(s.verdicts) > 1 else []
    # The money at stake first (page 1 has it; a deck without it left the director the decision alone).
    findings = sorted((x for x in s.findings if x.sentence.rstrip(".") != headline),
                      key=lambda x: not x.stake)[:1 if decision else 2]
    stake_shown = any(x.stake for x in findings)
    # A caveat goes where the figures it qualifies are: the data's and the test's always, an analysis's only
    # when its finding or a tile of it is on the slide.
    shown = {x.source for x in findings} | {k.source for k in s.key_numbers[:3]} | {"data", "experiment"}
    # The story first (what it is worth, what else was found, whom to act on), then what the figures rest on:
    # a director read a method caveat before the action.
    lines += [s.whom_next] if s.whom_next else []
    lines += [x.sentence for x in findings]
    # Beside the value at stake, the list to act on says how many of it are among those slipping away.
    lines += [" ".join(t for t in (f"{a.title}: {lower_first(a.text)}", a.aside if stake_shown else "") if t)
              for a in s.act_on[:1]]
    lines += [c.text for c in s.caveats if c.source in shown]
    # The summary ends with what to do (the next-steps slide says who does it, with what), unless that is the won
    # arm's roll-out the forecast line has just said ("next time: everyone", then "roll it out to everyone").
    # (With two winning arms the step carries their head-to-head comparison: it stays.)
    rolled_out = decision is not None and decision.code == "win" and bool(s.whom_next) \
        and sum(v.code == "win" for v in s.verdicts) == 1
    if s.next_steps and not rolled_out:
        lines.append(f"{f.t('doc.next_steps')}: {lower_first(s.next_steps[0])}")
    numbers = s.key_numbers[:3]
    said = decision.sentence if decision else (finding or headline)
    # What the lines under the tiles say, a sentence each without its asides: the money, whom, the first step.
    # (Cut at the first ";", a line lost its money or stopped inside a bracket.) Not the decision again.
    below = [_first_sentences(_without_asides(x)) for x in lines[:5] if _without_asides(x)[:40] not in said]
    notes = f.t("deck.notes_summary" if numbers else "deck.notes_summary_no_numbers", decision=_sentence(said),
                numbers="; ".join(f"{k.label} {k.value}" for k in numbers),
                grey=f.t("deck.notes_summary_grey") if any(not k.significant for k in numbers) else "",
                below=f.t("deck.notes_summary_below", lines=" ".join(below)) if below else "")
    rest = summary_slide(prs, headline, numbers, lines, notes, source)
    if rest:  # many treatments or segments: the summary continues rather than losing lines
        cards_slide(prs, headline, [Card(title="", lines=rest)], f"{notes} ({rest[0]})", source, 1)
    return headline


def _next_steps(prs, view: View, source: str, summary_title: str) -> None:
    """Every deck closes its story with what to do: the steps, whom to act on, with which offers."""
    f, s = view.fmt, view.summary
    if not s.next_steps and not s.act_on:
        return
    steps = s.next_steps or [a.text for a in s.act_on]
    # The summary may have taken the first step as its title: the slide that details it is then "Next steps".
    taken = summary_title in (upper_first(first_clause(steps[0], at_colon=colon)) for colon in (True, False))
    headline = _pick_title(prs, *(() if taken else (steps[0], steps[0].split(":")[0])), f.t("doc.next_steps"))
    who = [f"{a.title}: {lower_first(a.text)}" for a in s.act_on]
    offers = [(o.segment, lower_first(o.offer)) for o in s.offers]  # what does not fit is counted, not cut
    notes = " ".join([f.t("deck.notes_next", steps=" ".join(_sentence(x) for x in steps[:3])),
                      f.t("deck.notes_next_offers") if offers else "",
                      f.t("deck.notes_next_lists") if view.has_lists else ""]).strip()
    # What acting is worth beside the steps: the forecast of the whole decision, each arm's measured effect,
    # and what the model expects of the list to act on (its outcomes and their value, not an offer's effect).
    expect = ([upper_first(s.worth)] if s.worth else []) + [v.sentence for v in s.verdicts] + \
        [a.expect for a in s.act_on[:1] if a.expect]
    steps_slide(prs, headline, steps, who, offers, notes, source,
                (f.t("deck.steps_who"), f.t("deck.steps_what"), f.t("deck.steps_expect")), expect,
                f.t("deck.steps_more"))


def _appendix(prs, view: View, source: str) -> None:
    f = view.fmt
    first = len(prs.slides)
    for section in view.sections:
        finding_slides(prs, f, section, source, appendix=True)
        _table_slides(prs, f, section, source, appendix=True)
    methods = next((s for s in view.sections if s.key == "methods"), None)
    quality = next((s for s in view.sections if s.key == "quality"), None)
    # A short, quiet data section closes the methods slide; one with a warning (ids that may be wrong, a step
    # that did not run) gets its own slide, where a reader of the appendix sees it.
    few = quality is not None and (not quality.tables or len(quality.tables[0].rows) <= 2) and not quality.warnings
    if methods is not None:
        # Data without issues is one line: it closes the methods slide rather than taking a slide alone.
        paragraphs = [p for p in methods.paragraphs if p]
        # The sections' own method notes (the RFM scoring, say) where the methods text does not say them yet.
        said = " ".join(paragraphs)
        for section in view.sections:
            new = [_sentence(x) for x in _split_sentences(section.notes) if x[:40] not in said]
            if section.key not in APPENDIX and new:
                paragraphs.append(" ".join(new))
                said += " ".join(new)
        if few and quality is not None:
            found = quality.tables[0].rows if quality.tables else []
            # Table, finding (column): rows, action — as a sentence, not a table's cells run together.
            head = f.t("deck.quality_headline", found=f.plural(len(found), "issue")) + ": " + "; ".join(
                f"{row[1]}" + (f" ({row[2]})" if row[2] not in ("—", "") else "") + f" — {row[3]}, {row[4]}"
                for row in found) if found else f.t("deck.quality_clean")
            paragraphs.append(_sentence(head) + " " + " ".join([*quality.warnings, *quality.paragraphs]))
        text_slide(prs, f.t("deck.methods_headline"), paragraphs,
                   f.t("deck.notes_methods", first=_first_sentences(paragraphs[0], 2) if paragraphs else ""), source)
    if quality is not None and (not few or methods is None):
        rows = quality.paragraphs[0] if quality.paragraphs else ""
        notes = f.t("deck.notes_quality", rows=rows.rstrip("."))
        if quality.tables:
            table = quality.tables[0]
            headline = f.t("deck.quality_headline", found=f.plural(len(table.rows), "issue"))
            table_slide(prs, _pick_title(prs, headline), Table(table.title, table.header, table.rows, table.numeric,
                                                                note=" ".join([*quality.warnings, rows])), notes,
                        source, continued=f.t("deck.notes_continued"))
        else:
            text_slide(prs, f.t("deck.quality_clean"), [*quality.warnings, *quality.paragraphs], notes, source)
    for slide in list(prs.slides)[first:]:
        kicker(slide, prs, f.t("deck.appendix"))


def _notes_said_once(prs) -> None:
    """A long sentence (a method, a caveat) stays in the notes of the first slide that says it: notes are
    written per slide, not a paragraph repeated on every slide of a section."""
    said: set[str] = set()
    for slide in prs.slides:
        if not slide.has_notes_slide:
            continue
        frame = slide.notes_slide.notes_text_frame
        sentences = _split_sentences(frame.text)
        kept = [s for s in sentences if len(s) <= 60 or s not in said]
        said.update(s for s in sentences if len(s) > 60)
        whole = [s for s in kept if s.rstrip().endswith((".", "!", "?", "…"))]
        if len(whole) < 2:  # notes still say what the slide shows and how to read it: two sentences at least
            back = [s for s in sentences if s not in kept][:2 - len(whole)]
            kept = [s for s in sentences if s in kept or s in back]
        if len(kept) < len(sentences):
            frame.text = " ".join(kept)


def render_pptx(view: View, out_path: Path) -> Path:
    """Write the deck to out_path."""
    prs = Presentation(str(TEMPLATE))
    f = view.fmt
    source = f.t("doc.source", title=view.title, as_of=view.as_of) if view.as_of != "—" else \
        f.t("doc.source_plain", title=view.title)
    title_slide(prs, view.title, f"{view.kicker} · {view.created}",
                f.t("deck.notes_title", title=view.title, kind=view.kicker, as_of=view.as_of) if view.as_of != "—"
                else f.t("deck.notes_title_plain", title=view.title, kind=view.kicker))
    summary_title = _summary(prs, view, source)
    for section in view.sections:
        if section.key in APPENDIX:
            continue
        finding_slides(prs, f, section, source)
        _table_slides(prs, f, section, source, appendix=False)
        if section.key == "segments" and section.cards:
            headline = _pick_title(prs, section.headlines.get("portraits", ""), section.title)
            categories = f.t("deck.notes_cards_categories") if view.has_categories else ""
            cards_slide(prs, headline, section.cards, f.t("deck.notes_cards", categories=categories) + " "
                        + _first_sentences(section.notes),
                        source)
    _next_steps(prs, view, source, summary_title)
    _appendix(prs, view, source)
    _notes_said_once(prs)
    number_parts(prs)
    prs.save(str(out_path))
    return out_path
