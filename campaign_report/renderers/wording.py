"""Sentences shared by several sections: a feature in plain words, a verdict in one sentence."""

from __future__ import annotations

import math
import re
from typing import Any

from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX
from campaign_report.analysis.experiment.result import ExperimentResult, MetricResult
from campaign_report.analysis.results import Results
from campaign_report.renderers.format import NBSP, Formatter


def feature_label(f: Formatter, name: str) -> str:
    """A model or portrait feature in plain words: as [report.names] calls it, else the locale's word, else the
    column's name with spaces."""
    if name in f.names:
        return f.names[name]
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


def first_clause(text: str, at_colon: bool = True) -> str:
    """A step's action without its detail: "Hand 503 customers to the CRM; leave one in ten …" -> its first part,
    without a closing aside in parentheses (and, `at_colon`, without what follows a colon: the offer's name)."""
    clause = text.split(";")[0]
    return re.sub(r"\s*\([^()]*\)$", "", (clause.split(":")[0] if at_colon else clause).strip().rstrip("."))


def upper_first(text: str) -> str:
    """A sentence's first letter in capitals, past any opening quote: «две модели» -> «Две модели»."""
    lead = len(text) - len(text.lstrip("«“\"'("))
    return text[:lead] + text[lead:lead + 1].upper() + text[lead + 1:]


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


def ci_label(f: Formatter, confidence: float, levels: list[float], corrected: bool = False) -> str:
    """"95 % ДИ" when every interval shown is at the plain level, else "ДИ с поправкой" (the intervals
    are at the level of the multiple-testing correction, see stats.adjusted_level). `corrected`: the interval
    comes out of a corrected family even where its step-down level is the plain one (Holm's last step), so that
    intervals made the same way are labelled the same way side by side."""
    if not corrected and all(abs(level - confidence) < 1e-9 for level in levels):
        return f.t("doc.ci_level", conf=f.percent(confidence, 0))
    return f.t("doc.ci_adjusted")


def metric_ci_label(f: Formatter, exp: ExperimentResult, m: MetricResult) -> str:
    """One metric's interval label: "adjusted" whenever it was tested in a corrected family of several."""
    return ci_label(f, exp.confidence, [m.ci_level], corrected=exp.correction != "none" and m.family_size > 1)


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
    m = exp.decided_on(treatment)
    conf = f.percent(exp.confidence, 0)
    look = exp.look
    values = dict(treatment=group_name(f, results.meta.names, treatment), metric=f.t(f"metric.{m.metric}"),
                  metric_acc=f.t(f"metric_acc.{m.metric}"),
                  lift=_lift_text(f, m), conf=conf, ci=metric_ci_label(f, exp, m),
                  interval=lift_interval(f, m.metric, m.rel_ci_low, m.rel_ci_high, m.ci_low, m.ci_high),
                  p=f.p_text(m.p_adjusted), mde=f.percent(m.mde, 1),
                  day=look.day if look else 0, days=look.days if look else 0)
    if decision.verdict == "invalid":
        values["reasons"] = "; ".join(f.t(f"reason.{r}") for r in decision.reasons)
    lift_abs = f.percent(abs(m.rel_lift), 1) if math.isfinite(m.rel_lift) else f.metric_diff(m.metric, m.abs_diff)
    code = decision.verdict
    if look is not None and look.interim and code == "no_detectable_effect":
        # A running test that has not crossed its boundary has no result yet: keep it running.
        return code, f.t("verdict.interim_running", **values), f.t("verdict.headline_interim_running", **values)
    headline = f.t(f"verdict.headline_{code}", **{**values, "lift": lift_abs})
    sentence = f.t(f"verdict.{code}", **values)
    if look is not None and look.interim:
        sentence = f.t("verdict.interim_prefix", **values) + lower_first(sentence)
    return code, sentence, headline


def lift_interval(f: Formatter, metric: str, rel_low: float, rel_high: float, abs_low: float, abs_high: float,
                  short: bool = False) -> str:
    """A relative lift's interval; when Fieller's set has no finite end (the control's value itself is not
    bounded away from zero at this level), what the data can say: the difference's interval (`short`: in a
    table whose difference column stands beside it, only that the interval is not bounded)."""
    if math.isfinite(rel_low) and math.isfinite(rel_high):
        return f.percent_range(rel_low, rel_high)
    if short:
        return f.t("experiment.unbounded_short")
    return f.t("experiment.unbounded", diff=f.metric_range(metric, abs_low, abs_high))


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


def value_text(f: Formatter, results: Results, x: float | None, sign: bool = False, total: bool = False) -> str:
    """A customer value in its unit: money, or the profit column's own unit when the config states one. A
    `total` over many customers in money is rounded as headlines are ("1,9 млн ₽", not "1 872 777 ₽")."""
    money = results.meaning.money
    if money.value_basis == "profit" and money.profit_unit:
        # Two decimals for a customer's value (4,04), none for a list's total (1 079, not 1 078,59).
        digits = 2 if x is None or not math.isfinite(x) or abs(x) < 100 else 0
        return f"{f.number(x, digits, sign=sign)}{NBSP}{money.profit_unit}"
    return f.money_short(x, sign=sign) if total else f.money(x, sign=sign)
