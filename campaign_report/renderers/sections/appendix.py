"""The appendix: data quality (with the run notes) and methods."""

from __future__ import annotations

from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX
from campaign_report.analysis.results import Results
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Section, Table
from campaign_report.renderers.wording import feature_label, run_note_text


def quality_section(f: Formatter, results: Results) -> Section:
    """Data-quality appendix: rows in and out, every finding and what was done."""
    sec = Section("quality", f.t("quality.title"))
    for code, detail in results.meta.run_notes:
        sec.warnings.append(run_note_text(f, code, detail))
    sec.paragraphs.append(f.t("quality.rows") + ": " + "; ".join(
        f"{q.name} {f.integer(q.rows_in)} → {f.integer(q.rows_out)}" for q in results.data_quality) + ".")
    rows = [[q.name, f.t(f"issue.{i.kind}") if i.kind in f.strings["issue"] else i.kind, i.column or "—",
             f.integer(i.count), (f.t(f"action.{i.action}") if i.action in f.strings["action"] else i.action)
             + (f" ({i.detail})" if i.detail else "")] for q in results.data_quality for i in q.issues]
    if rows:
        sec.tables.append(Table(title="", header=[f.t("quality.col_table"), f.t("quality.col_issue"),
                                                   f.t("quality.col_column"), f.t("quality.col_count"),
                                                   f.t("quality.col_action")], rows=rows, numeric=[3]))
    else:
        sec.paragraphs.append(f.t("quality.none"))
    return sec


def methods_section(f: Formatter, results: Results) -> Section:
    """Methods in plain words, only for the analyses that ran."""
    sec = Section("methods", f.t("methods.title"))
    ran = {"experiment": results.experiment, "cuped": results.experiment and results.experiment.cuped,
           "segments": results.segments, "propensity": results.propensity}
    def family(name: str) -> str:  # category and brand shares are named once, as a group
        if name.startswith(CAT_PREFIX):
            return f.t("feature.cat_shares")
        if name.startswith(BRAND_PREFIX):
            return f.t("feature.brand_shares")
        return feature_label(f, name)

    features = ", ".join(dict.fromkeys(family(x) for x in results.segments.features)) if results.segments else ""
    sec.paragraphs = [f.t(f"methods.{k}", features=features) if k == "segments" else f.t(f"methods.{k}")
                      for k, present in ran.items() if present]
    sec.paragraphs.append(f.t("methods.engine", engine=results.meta.engine))
    return sec
