"""Results -> view model: display strings, tables and chart specs for the brief, the deck and the e-mail.

No statistics here: every number comes from Results and is only formatted and arranged.
"""

from __future__ import annotations

from campaign_report.analysis.results import Results
from campaign_report.renderers import sections as vs
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.sections.next_steps import next_steps
from campaign_report.renderers.view_model import Caveat, Finding, Section, Summary, View
from campaign_report.renderers.wording import first_clause


def build_view(results: Results) -> View:
    """Everything the documents show, formatted for the report's language."""
    meta = results.meta
    f = Formatter(meta.language, meta.currency, meta.names)
    source = f.t("doc.source", title=meta.title, as_of=f.date(meta.as_of)) if meta.as_of else \
        f.t("doc.source_plain", title=meta.title)
    sections: list[Section] = []
    summary = Summary()
    if results.meaning.large_lines is not None and results.segments is not None:  # it moves the revenue shares
        summary.caveats.append(Caveat(vs.large_lines_text(f, results.meaning.large_lines), source="segments"))
    if results.experiment is not None:
        sections.append(vs.experiment_section(f, results, source, summary))
        history = vs.history_section(f, results, source)
        if history is not None:
            sections.append(history)
            summary.findings.append(Finding(label=history.title, sentence=history.paragraphs[0]))
    if results.segments is not None or results.rfm is not None:
        sections.append(vs.segments_section(f, results, source, summary))
    if results.lifetime is not None:
        sections.append(vs.lifetime_section(f, results, source, summary))
    if results.propensity is not None:
        sections.append(vs.propensity_section(f, results, source, summary))
    if results.offers is not None:
        sections.append(vs.offers_section(f, results, source, summary))
    if results.uplift is not None:
        sections.append(vs.uplift_section(f, results, source, summary))
    order = {"experiment": 0, "propensity": 1, "lifetime": 2, "segments": 3}
    # Each arm's primary metric first: the three tiles of the deck's summary must show every arm's decision.
    # A secondary metric the test could not tell from no effect goes last: it is not a finding, and it must not
    # push whom to act on off page 1.
    summary.key_numbers.sort(key=lambda k: (not k.primary, k.source == "experiment" and not k.significant,
                                            order.get(k.source, 4)))
    summary.key_numbers += summary.spare_numbers[:max(0, 3 - len(summary.key_numbers))]
    summary.next_steps = next_steps(f, results)
    if not summary.verdicts and summary.next_steps:
        summary.lead = first_clause(summary.next_steps[0], at_colon=False)
    details = [t for section in sections for t in section.appendix_tables]
    if details:
        sections.append(Section("details", f.t("details.title"), tables=details))
    sections.append(vs.quality_section(f, results))
    sections.append(vs.methods_section(f, results, source))
    # The e-mail subject leads with the decision and its number (a phone shows its first ~40 characters): the
    # verdict, the primary metric's lift, the previous campaign's, then the report's title.
    subject_bits = []
    if summary.verdicts and results.experiment is not None:
        # The overall decision's label: "mixed" when arms disagree, not the first arm's verdict.
        overall = results.experiment.decision.treatment
        verdict = next((v for v in summary.verdicts if v.treatment == overall), summary.verdicts[0])
        lead = verdict.label
        if verdict.code in ("win", "loss", "no_detectable_effect"):
            lead += ": " + vs.primary_lift_text(f, results, verdict.treatment)
            if results.history is not None and (before := vs.previous_lift(f, results.history)):
                lead += f" ({before})"
        subject_bits.append(lead)
    subject_bits.append(meta.title)
    kind = "campaign" if results.experiment is not None else "model" if results.propensity is not None \
        else "profile"
    return View(language=meta.language, title=meta.title, created=f.date(meta.created[:10]),
                as_of=f.date(meta.as_of), fmt=f, summary=summary, sections=sections,
                email_subject=" — ".join(subject_bits), kicker=f.t(f"doc.kind_{kind}"), kind=kind,
                has_categories=results.meaning.categories,
                has_lists=any(x is not None for x in (results.target_list, results.uplift_list,
                                                      results.customer_value)))
