"""The propensity section: the chosen model, its honest metrics, the list to act on."""

from __future__ import annotations

import math

from campaign_report.analysis.model.propensity import ActionSegment, Importance, PropensityResult, TargetListSummary
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import ActOn, Card, Finding, KeyNumber, Section, Summary, Table
from campaign_report.renderers.wording import (
    feature_label,
    lower_first,
    meaning_key,
    outcome_phrase,
    value_noun,
    value_text,
)


def cutoff_rule_text(f: Formatter, tl: TargetListSummary) -> str:
    """The list's cut-off in business words: a capacity, a precision target, or a probability."""
    if tl.cutoff_kind == "top_n":
        return f.t("propensity.cutoff_top_n", n=f.plural(int(tl.cutoff_value), "customer_of"))
    if tl.cutoff_kind == "top_share":
        return f.t("propensity.cutoff_top_share", share=f.percent(tl.cutoff_value, 0))
    if tl.cutoff_kind == "precision":
        return f.t("propensity.cutoff_precision", precision=f.percent(tl.cutoff_value, 0))
    return f.t("propensity.cutoff_probability", probability=f.number(tl.threshold, 2))


def _drivers(p: PropensityResult) -> list[Importance]:
    """The features whose importance is beyond the noise of its permutations (at least two SDs), top three."""
    return [i for i in p.importance[:3] if i.importance > 0 and i.importance > 2 * i.std]


def _leaked(results: Results) -> bool:
    """The leakage guard fired: the model's scores cannot be trusted until the cause is found."""
    p = results.propensity
    return p is not None and any(w in p.warnings for w in ("holdout_auc_too_high", "single_feature_leak"))


def propensity_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Model table, holdout metrics, leakage guard, drivers, gains, target list, the segment to act on."""
    p = results.propensity
    assert p is not None
    meaning = meaning_key(results)
    outcome = outcome_phrase(f, results)
    probability = f.t("outcome.probability", outcome=outcome)
    sec = Section("propensity", f.t(f"propensity.title_{meaning}"))
    if p.target_source == "derived":
        sec.paragraphs.append(f.t("propensity.target_derived", days=p.target.split("_")[2].rstrip("d")))
    else:
        sec.paragraphs.append(f.t("propensity.target", outcome=outcome, rate=f.percent(p.positive_rate, 1)))
    sec.paragraphs.append(f.t(f"outcome.means_{meaning}"))
    if p.features_before:
        sec.paragraphs.append(f.t("propensity.features_before", date=f.date(p.features_before),
                                  as_of=f.date(results.meta.as_of)))
    sec.paragraphs.append(f.t("propensity.sample", search=f.integer(p.n_search), total=f.integer(p.n_total),
                              train=f.integer(p.n_train), holdout=f.integer(p.n_holdout)))
    if p.n_population > p.n_total:
        sec.paragraphs.append(f.t("propensity.fitted_on", fitted=f.integer(p.n_total),
                                  total=f.plural(p.n_population, "customer_of")))
    model_name = f.t(f"model.{p.best}")
    h = p.holdout
    sec.paragraphs.append(f.t("propensity.best", model=model_name) + " " + f.t(
        "propensity.holdout", auc=f.number(h.roc_auc, 3), pr=f.number(h.pr_auc, 3), base=f.percent(h.base_rate, 0),
        threshold=f.number(h.threshold, 2), precision=f.percent(h.precision, 0), recall=f.percent(h.recall, 0),
        f1=f.number(h.f1, 2), brier=f.number(h.brier, 3), ece=f.percent(h.calibration_error, 1)))
    leaked = _leaked(results)
    sec.headline = f.t("propensity.headline_leak" if leaked else "propensity.headline", model=model_name,
                       auc=f.number(h.roc_auc, 2))
    drivers = ", ".join(feature_label(f, i.feature) for i in _drivers(p))
    finding = f.t("propensity.finding_leak" if leaked else "propensity.finding", outcome=outcome,
                  auc=f.number(h.roc_auc, 2), drivers=drivers or f.t("propensity.no_drivers"))
    summary.findings.append(Finding(label=f.t("doc.finding_model"), sentence=finding))
    model_number = (KeyNumber(label=f.t("propensity.kpi_auc_leak" if leaked else "propensity.kpi_auc",
                                                   model=model_name),
                                         value=f.number(h.roc_auc, 2),
                                         # With a list, its tile gives the precision and recall at its cut-off:
                                         # this one says how to read the score; without one, the F1 threshold's.
                                         detail=f.t("propensity.kpi_auc_detail", pr=f.number(h.pr_auc, 2))
                                         if math.isfinite(h.cutoff_precision) else
                                         f.t("propensity.kpi_auc_detail_threshold", pr=f.number(h.pr_auc, 2),
                                             precision=f.percent(h.precision, 0), recall=f.percent(h.recall, 0)),
                                         significant=not leaked, source="propensity"))
    if "holdout_auc_too_high" in p.warnings:
        sec.warnings.append(f.t("propensity.leak_model", auc=f.number(h.roc_auc, 4)))
    for feature, auc in p.leak_features:
        sec.warnings.append(f.t("propensity.leak_feature", feature=feature_label(f, feature), auc=f.number(auc, 3),
                                rest=f.number(p.leak_reference_auc, 3)))
    if not p.warnings:
        sec.paragraphs.append(f.t("propensity.leak_ok"))
    sec.tables.append(Table(title=f.t("propensity.models_chart"), header=[
        f.t("propensity.col_model"), f.t("propensity.col_cv"), f.t("propensity.col_std"), f.t("propensity.col_time")],
        rows=[[f.t(f"model.{c.model}") + (f" ({f.t('doc.chosen')})" if c.model == p.best else ""),
                  f.number(c.cv_score, 3), f.number(c.cv_std, 3), f.number(c.fit_time, 1)] for c in
                 sorted(p.candidates, key=lambda c: -c.cv_score)], numeric=[1, 2, 3]))
    ranked = sorted(p.candidates, key=lambda c: -c.cv_score)
    sec.charts.append(ChartSpec("models", "bar", f.t("propensity.models_chart"), f.t("propensity.auc_unit"),
                                tuple(f.t(f"model.{c.model}") for c in ranked),
                                (Series("ROC-AUC", tuple(c.cv_score for c in ranked),
                                        tuple(c.cv_std for c in ranked), tuple(c.cv_std for c in ranked)),),
                                source, decimals=2, decimal_mark=f.decimal, whiskers="std"))
    sec.headlines["models"] = sec.headline
    sec.chart_methods["models"] = f.t("propensity.method_models")
    top = [i for i in p.importance[:8]]
    sec.charts.append(ChartSpec("importance", "bar", f.t("propensity.importance_chart"),
                                f.t("propensity.importance_unit"), tuple(feature_label(f, i.feature) for i in top),
                                (Series(f.t("propensity.importance_unit"), tuple(i.importance for i in top),
                                        tuple(i.std for i in top), tuple(i.std for i in top)),), source, decimals=3,
                                decimal_mark=f.decimal, whiskers="std"))
    driver_lines = [f.t("propensity.higher" if i.direction > 0 else "propensity.lower",
                        feature=feature_label(f, i.feature), probability=probability) for i in _drivers(p)]
    if driver_lines:
        sec.paragraphs.append(f.t("propensity.drivers") + ": " + "; ".join(driver_lines) + ".")
        sec.headlines["importance"] = f.t("propensity.headline_drivers", drivers=", ".join(
            feature_label(f, i.feature) for i in _drivers(p)))
    sec.charts.append(ChartSpec("gains", "line", f.t("propensity.gains_chart", outcome=outcome),
                                f.t("propensity.gains_y"), tuple(f.percent(x, 0) for x, _ in p.gains), (
                                    Series(f.t("propensity.model_curve"), tuple(y * 100 for _, y in p.gains)),
                                    Series(f.t("propensity.random_curve"), tuple(x * 100 for x, _ in p.gains))),
                                source, category_title=f.t("propensity.gains_x"), decimals=0, decimal_mark=f.decimal))
    top30 = p.gains[2][1] if len(p.gains) > 2 else math.nan
    h_list = p.holdout
    # The list that is used, when there is one: a "top 30 %" title beside a list of another size was two cuts.
    sec.headlines["gains"] = f.t("propensity.headline_gains_list", share=f.percent(h_list.cutoff_share, 0),
                                 found=f.percent(h_list.cutoff_recall, 0), outcome=outcome,
                                 precision=f.percent(h_list.cutoff_precision, 0)) \
        if p.target_list is not None and math.isfinite(h_list.cutoff_recall) and math.isfinite(h_list.cutoff_share) \
        else f.t("propensity.headline_gains", found=f.percent(top30, 0), outcome=outcome)
    if p.imputation is not None:
        im = p.imputation
        sec.paragraphs.append(f.t("propensity.imputation", n=f.plural(im.n_imputed, "customer_of"),
                                  f1=f.number(im.f1, 2),
                                  accuracy=f.percent(im.accuracy, 0)))
    list_lines = _list_paragraphs(f, results, sec, summary, probability)
    _act_on(f, results, sec, summary, meaning, probability)
    # Whom to act on leads the tiles, the model's quality vouches for it after: a director decides on the list.
    summary.key_numbers.append(model_number)
    # The deck: the model comparison checks the method (appendix); gains and drivers are the findings.
    sec.diagnostics.append("models")
    sec.so_what["gains"] = [x for x in sec.paragraphs if x in list_lines]
    sec.so_what["importance"] = [x for x in sec.paragraphs if x.startswith(f.t("propensity.drivers"))][:1]
    sec.notes = f.t("methods.propensity")
    return sec


def _population(f: Formatter, tl: TargetListSummary | None) -> str:
    return (tl.score_filter_name or f.t("propensity.filtered_population")) if tl and tl.score_filter else \
        f.t("propensity.all_customers")


def _list_paragraphs(f: Formatter, results: Results, sec: Section, summary: Summary, probability: str) -> list[str]:
    """The target list: who is on it, and what it is worth on the holdout."""
    p = results.propensity
    assert p is not None
    tl, h = p.target_list, p.holdout
    if tl is None:
        return []
    rule = cutoff_rule_text(f, tl)
    lines = [f.t("propensity.target_list", customers=f.plural(tl.size, "customer"), filter=_population(f, tl),
                 rule=rule, above=f.plural(tl.above_threshold, "customer"), probability=probability,
                 threshold=f.number(tl.threshold, 2))]
    sec.paragraphs.append(lines[0])
    if not h.cutoff_reached:
        sec.warnings.append(f.t("propensity.cutoff_unreachable", precision=f.percent(tl.cutoff_value, 0)))
    quality = math.isfinite(h.cutoff_precision)
    if quality:
        # The cut-off was set to reach the target in cross-validation; a holdout below it is said wherever the
        # list's precision is (here and page 1), not left for the reader to notice.
        missed = f.t("propensity.cutoff_missed", target=f.percent(tl.cutoff_value, 0),
                     precision=f.percent(h.cutoff_precision, 0)) if tl.cutoff_kind == "precision" and \
            h.cutoff_reached and round(h.cutoff_precision, 2) < round(tl.cutoff_value, 2) else ""
        lines.append(f.t("propensity.list_quality", cutoff=f.number(h.cutoff, 2), share=f.percent(h.cutoff_share, 0),
                         precision=f.percent(h.cutoff_precision, 0), recall=f.percent(h.cutoff_recall, 0))
                     + (" " + missed if missed else ""))
        sec.paragraphs.append(lines[-1])
    if tl.known is not None:
        sec.paragraphs.append(_known_text(f, tl, outcome_phrase(f, results)))
    a = p.action_segment
    # One "whom" number among the key ones: the segment to act on when it narrows the list, else the list.
    numbers = summary.spare_numbers if a is not None and a.size and a.value_basis != "none" else summary.key_numbers
    numbers.append(KeyNumber(
        label=f.t("propensity.list_label"), value=f.integer(tl.above_threshold),
        detail=f.t("propensity.list_short", rule=rule, precision=f.percent(h.cutoff_precision, 0),
                   recall=f.percent(h.cutoff_recall, 0)) if quality else rule,
        significant=not _leaked(results), source="propensity"))
    if quality:
        summary.act_on.append(ActOn(title=f.t("propensity.list_act_on_title"), text=f.t(
            "propensity.list_act_on", rule=rule[:1].upper() + rule[1:], above=f.plural(tl.above_threshold, "customer"),
            precision=f.percent(h.cutoff_precision, 0), recall=f.percent(h.cutoff_recall, 0))
            + (" " + missed if missed else "")))
    return lines


def _known_text(f: Formatter, tl: TargetListSummary, outcome: str) -> str:
    """The list against the outcomes the data already record: who on it has the other outcome, who is left off."""
    k = tl.known
    assert k is not None
    head = f.t("propensity.list_known_all", listed=f.integer(tl.above_threshold)) if k.on_list == tl.above_threshold \
        else f.t("propensity.list_known_some", known=f.integer(k.on_list), listed=f.integer(tl.above_threshold))
    return head + " " + f.t("propensity.list_known", positive=f.integer(k.positive_on_list), outcome=outcome,
                            other=f.integer(k.on_list - k.positive_on_list),
                            missed=f.plural(k.positive_off_list, "customer"))


def _main_cluster_text(f: Formatter, a: ActionSegment) -> str:
    """Most of the segment in one cluster: what this campaign did there, so that the retention offer is not more
    of a campaign that did not move them."""
    m = a.main_cluster
    if m is None or m.effect is None:
        return ""
    e = m.effect
    verdict = "win" if e.significant and e.abs_diff > 0 else "loss" if e.significant else "none"
    return f.t(f"act.main_cluster_{verdict}", n=f.integer(m.customers), cluster=f.quote(m.name),
               lift=f.percent(e.rel_lift, 1, sign=True))


def _act_on(f: Formatter, results: Results, sec: Section, summary: Summary, meaning: str, probability: str) -> None:
    """The segment to act on: the list's customers worth the most (the whole list when there is no money)."""
    p = results.propensity
    assert p is not None
    a, tl = p.action_segment, p.target_list
    if a is None or not a.size:
        return
    title = f.t(f"act.label_{meaning}")
    if a.value_basis == "none":
        sec.cards.append(Card(title=title, lines=[f.t("act.whole_list", customers=f.plural(a.size, "customer")), *(
            [f.t("act.no_consent", n=f.integer(a.no_consent), rest=f.integer(a.size - a.no_consent))]
            if a.no_consent else []), *[f.t("act.expect_lead", text=lower_first(x))
                                         for x in [_expect_text(f, results, a, meaning, "")] if x]]))
        return
    noun = value_noun(f, a.value_basis)
    margin = f.percent(results.meaning.money.margin, 0) if results.meaning.money.margin is not None else ""
    values = dict(customers=f.plural(a.size, "customer"), list=f.integer(a.list_size), noun=noun, margin=margin,
                  cut=value_text(f, results, a.value_cut), value=value_text(f, results, a.value_mean),
                  total=value_text(f, results, a.value_total, total=True),
                  base=value_text(f, results, a.base_value_mean), probability=probability,
                  prob=f.number(a.probability_mean, 2), scored=f.plural(tl.size if tl else a.size, "customer_of"),
                  filter=_population(f, tl))
    lines = [f.t("act.segment", **values)]
    profile = []
    if a.promo_share is not None:
        profile.append(f.t("propensity.action_promo", promo=f.percent(a.promo_share, 0),
                           base=f.percent(a.base_promo_share, 0)))
    if a.average_check is not None:
        profile.append(f.t("propensity.action_check", check=f.money(a.average_check),
                           base=f.money(a.base_average_check)))
    if a.top_categories:
        profile.append(f.t("propensity.action_categories", items=", ".join(n for n, _ in a.top_categories)))
    if profile:
        lines.append("; ".join(profile) + ".")
    # The lifetime model keeps its own "slipping away" list: say how the two relate, so that a reader who sees
    # both numbers on page 1 knows they are different lists, and how much they share.
    both = ""
    life = results.lifetime
    consent = f.t("act.no_consent", n=f.integer(a.no_consent), rest=f.integer(a.size - a.no_consent)) \
        if a.no_consent else ""
    if consent:
        lines.append(consent)
    cluster = _main_cluster_text(f, a)
    if cluster:
        lines.append(cluster)
    if a.also_slipping is not None and life is not None and life.slipping is not None:
        both = f.t("act.also_slipping", both=f.plural(a.also_slipping, "customer"),
                   slipping=f.integer(life.slipping.size))
        lines.append(both)
    sec.cards.append(Card(title=f"{title}: {f.t(f'act.high_value_{a.value_basis}')}", lines=lines))
    summary.key_numbers.append(KeyNumber(label=title, value=f.integer(a.size),
                                         detail=f.t("act.short", **values),
                                         significant=not _leaked(results), source="propensity"))
    expect = _expect_text(f, results, a, meaning, noun)
    if expect:
        lines.append(f.t("act.expect_lead", text=lower_first(expect)))
    explained = " ".join(t for t in (f.t("act.explained", **values), consent, cluster) if t)
    summary.act_on.insert(0, ActOn(title=title, text=explained, aside=both, expect=expect))


def _expect_text(f: Formatter, results: Results, a: ActionSegment, meaning: str, noun: str) -> str:
    """How many of the segment the model expects to have the outcome, and the value of those customers."""
    outcome = outcome_phrase(f, results)
    if not outcome or not math.isfinite(a.expected_outcomes):
        return ""
    value = f.t("act.expect_value", noun=noun, total=value_text(f, results, a.value_expected, total=True)) \
        if math.isfinite(a.value_expected) else ""
    return f.t(f"act.expect_{meaning}", outcome=outcome, n=f.integer(round(a.expected_outcomes)), value=value)
