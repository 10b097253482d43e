"""Sentences shared by several sections: a feature in plain words, a verdict in one sentence."""

from __future__ import annotations

import math
from typing import Any

from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX
from campaign_report.analysis.experiment.readout import MetricResult
from campaign_report.analysis.results import Results
from campaign_report.renderers.format import NBSP, Formatter


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


def lower_first(text: str) -> str:
    """A sentence's start as it reads after "; ": "В зоне риска" -> "в зоне риска"; a first word in capitals
    ("RFM", "ARPU", "A/B") stays as it is."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if len(first) <= 1 or first[1].islower() else text


def humanize(identifier: str) -> str:
    """A column or key as words: "zip_code" -> "Zip code", "history_segment" -> "History segment"."""
    text = str(identifier).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def group_name(f: Formatter, names: dict[str, str], group: str) -> str:
    """A test group as managers call it: [report.names], else a readable default for control/treatment."""
    if group in names:
        return names[group]
    defaults = f.strings.get("group_names", {})
    return defaults.get(str(group).lower(), str(group))


def column_name(f: Formatter, names: dict[str, str], column: str) -> str:
    """A data column in words: [report.names], the locale's word for a known role, else humanized."""
    if column in names:
        return names[column]
    known = f.strings.get("dimension", {})
    return known.get(column, humanize(column))


def dimension_name(f: Formatter, names: dict[str, str], dimension: str) -> str:
    """A cut of the readout (cluster, rfm, or a customer column) in words."""
    return column_name(f, names, dimension)


def target_name(f: Formatter, names: dict[str, str], target: str) -> str:
    """The model's target "column = value" as words: «Снизилась» (Покупательская активность)."""
    column, sep, value = target.partition(" = ")
    if not sep:
        return column_name(f, names, target)
    if value in names:  # the config names the outcome: «снижение активности»
        return f.quote(names[value])
    return f.quote(f"{column_name(f, names, column)} = {value}")


def _lift_text(f: Formatter, m: MetricResult) -> str:
    return f.percent(m.rel_lift, 1, sign=True)


def ci_label(f: Formatter, confidence: float, levels: list[float]) -> str:
    """"95 % ДИ" when every interval shown is at the plain level, else "ДИ с поправкой" (the intervals
    are at the level of the multiple-testing correction, see stats.adjusted_level)."""
    if all(abs(level - confidence) < 1e-9 for level in levels):
        return f.t("doc.ci_level", conf=f.percent(confidence, 0))
    return f.t("doc.ci_adjusted")


def mixed_sentence(f: Formatter, results: Results) -> tuple[str, str]:
    """(sentence, headline) of an overall "mixed" decision: which arms won and which lost."""
    exp = results.experiment
    assert exp is not None
    names = results.meta.names

    def arms(verdict: str) -> str:
        return ", ".join(f.quote(group_name(f, names, d.treatment)) for d in exp.decisions if d.verdict == verdict)

    values = dict(winners=arms("win"), losers=arms("loss"), metric=f.t(f"metric.{exp.primary}"))
    return f.t("verdict.mixed", **values), f.t("verdict.headline_mixed", **values)


def verdict_sentence(f: Formatter, results: Results, treatment: str) -> tuple[str, str, str]:
    """(verdict code, one plain sentence, deck headline) for one treatment."""
    exp = results.experiment
    assert exp is not None
    decision = next(d for d in exp.decisions if d.treatment == treatment)
    m = next(x for x in exp.metrics if x.treatment == treatment and x.metric == decision.metric)
    conf = f.percent(exp.confidence, 0)
    values = dict(treatment=group_name(f, results.meta.names, treatment), metric=f.t(f"metric.{m.metric}"),
                  metric_acc=f.t(f"metric_acc.{m.metric}"),
                  lift=_lift_text(f, m), conf=conf, ci=ci_label(f, exp.confidence, [m.ci_level]),
                  ci_low=f.percent(m.rel_ci_low, 1, sign=True),
                  ci_high=f.percent(m.rel_ci_high, 1, sign=True), p=f.p_text(m.p_adjusted),
                  mde=f.percent(m.mde, 1))
    if decision.verdict == "invalid":
        values["reasons"] = "; ".join(f.t(f"reason.{r}") for r in decision.reasons)
    lift_abs = f.percent(abs(m.rel_lift), 1) if math.isfinite(m.rel_lift) else "—"
    headline = f.t(f"verdict.headline_{decision.verdict}", **{**values, "lift": lift_abs})
    return decision.verdict, f.t(f"verdict.{decision.verdict}", **values), headline


def segment_name(f: Formatter, dimension: str, segment: str) -> str:
    """A segment value as a manager reads it (RFM codes translated)."""
    if dimension == "rfm":
        try:
            return f.t(f"rfm.{segment}")
        except KeyError:
            return segment
    return segment


def cluster_name(f: Formatter, c: Any) -> str:
    """A cluster's generated name in the report's language."""
    return c.name_ru if f.language == "ru" else c.name_en


def cluster_names(f: Formatter, results: Results) -> dict[str, str]:
    """Cluster id (as the offers and the target list key it) -> its generated name."""
    if results.segments is None:
        return {}
    return {str(c.id): cluster_name(f, c) for c in results.segments.clusters}


def offer_text(f: Formatter, offer: Any) -> str:
    """An offer's wording in the report's language."""
    return offer.text_ru if f.language == "ru" else offer.text_en


def run_note_text(f: Formatter, code: str, detail: str) -> str:
    """One 'ran differently from the config' note in words (documents and console)."""
    return f.t(f"run_note.{code}", detail=detail)


def outcome_phrase(f: Formatter, results: Results) -> str:
    """What the model predicts, in words: the label's positive value (as [report.names] calls it) and its
    column, «Снизилась» (Покупательская активность), or the derived «no purchase in 90 days»."""
    label = results.meaning.label
    if label is None:
        return ""
    if label.source == "derived":
        return f.quote(f.t("outcome.derived", days=f.plural(label.horizon_days, "day")))
    return target_name(f, results.meta.names, f"{label.column} = {label.positive}")


def meaning_key(results: Results) -> str:
    """"bad", "good" or "neutral": which words the label's outcome takes (retain, contact, act on)."""
    label = results.meaning.label
    return label.positive_is if label is not None else "neutral"


def value_noun(f: Formatter, basis: str) -> str:
    """What a customer's value is called: profit, profit from spend × margin, or spend (never profit)."""
    return f.t(f"value.noun_{basis}")


def value_text(f: Formatter, results: Results, x: float | None, sign: bool = False) -> str:
    """A customer value in its unit: money, or the profit column's own unit when the config states one."""
    money = results.meaning.money
    if money.value_basis == "profit" and money.profit_unit:
        return f"{f.number(x, 2, sign=sign)}{NBSP}{money.profit_unit}"
    return f.money(x, sign=sign)
