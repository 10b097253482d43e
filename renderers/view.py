"""Results -> view model: display strings, tables and chart specs for the brief, the deck and the e-mail.

No statistics here: every number comes from Results and is only formatted and arranged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analysis.experiment import MetricResult
from analysis.features import BRAND_PREFIX, CAT_PREFIX
from analysis.results import Results
from renderers.charts import ChartSpec
from renderers.format import Formatter


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)  # {title, header, rows, note}
    charts: list[ChartSpec] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)  # {title, lines}
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    headlines: dict[str, str] = field(default_factory=dict)  # chart key -> deck headline stating the finding
    notes: str = ""


@dataclass
class View:
    language: str
    title: str
    created: str
    as_of: str
    fmt: Formatter
    summary: dict[str, Any]
    sections: list[Section]
    email_subject: str


def feature_label(f: Formatter, name: str) -> str:
    """A model or portrait feature in plain words."""
    if name.startswith(CAT_PREFIX):
        return f.t("feature.cat_share", name=name[len(CAT_PREFIX):])
    if name.startswith(BRAND_PREFIX):
        return f.t("feature.brand_share", name=name[len(BRAND_PREFIX):])
    try:
        return f.t(f"feature.{name}")
    except KeyError:
        return name.replace("_", " ")


def _lift_text(f: Formatter, m: MetricResult) -> str:
    return f.percent(m.rel_lift, 1, sign=True)


def verdict_sentence(f: Formatter, results: Results, treatment: str) -> tuple[str, str, str]:
    """(verdict code, one plain sentence, deck headline) for one treatment."""
    exp = results.experiment
    assert exp is not None
    decision = next(d for d in exp.decisions if d.treatment == treatment)
    m = next(x for x in exp.metrics if x.treatment == treatment and x.metric == decision.metric)
    conf = f.percent(exp.confidence, 0)
    values = dict(treatment=treatment, metric=f.t(f"metric.{m.metric}"), metric_acc=f.t(f"metric_acc.{m.metric}"),
                  lift=_lift_text(f, m), conf=conf, ci_low=f.percent(m.rel_ci_low, 1, sign=True),
                  ci_high=f.percent(m.rel_ci_high, 1, sign=True), p=f.p_text(m.p_adjusted),
                  mde=f.percent(m.mde, 1))
    if decision.verdict == "invalid":
        values["reasons"] = "; ".join(f.t(f"reason.{r}") for r in decision.reasons)
    lift_abs = f.percent(abs(m.rel_lift), 1) if math.isfinite(m.rel_lift) else "—"
    headline = f.t(f"verdict.headline_{decision.verdict}", **{**values, "lift": lift_abs})
    return decision.verdict, f.t(f"verdict.{decision.verdict}", **values), headline


def build_view(results: Results) -> View:
    """Everything the documents show, formatted for the report's language."""
    meta = results.meta
    f = Formatter(meta.language, meta.currency)
    source = f.t("doc.source", title=meta.title, as_of=f.date(meta.as_of)) if meta.as_of else \
        f.t("doc.source_plain", title=meta.title)
    sections: list[Section] = []
    summary: dict[str, Any] = {"verdicts": [], "key_numbers": [], "act_on": [], "offers": []}
    from renderers import view_sections as vs

    if results.experiment is not None:
        sections.append(vs.experiment_section(f, results, source, summary))
    if results.segments is not None or results.rfm is not None:
        sections.append(vs.segments_section(f, results, source, summary))
    if results.propensity is not None:
        sections.append(vs.propensity_section(f, results, source, summary))
    if results.offers is not None:
        sections.append(vs.offers_section(f, results, source, summary))
    sections.append(vs.quality_section(f, results))
    sections.append(vs.methods_section(f, results))
    subject_bits = [meta.title]
    if summary["verdicts"]:
        subject_bits.append(summary["verdicts"][0]["label"])
    return View(language=meta.language, title=meta.title, created=f.date(meta.created[:10]),
                as_of=f.date(meta.as_of), fmt=f, summary=summary, sections=sections,
                email_subject=" — ".join(subject_bits))
