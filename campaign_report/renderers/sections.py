"""The sections of the view model, one function per analysis. Formatting and arranging only."""

from __future__ import annotations

import math
from typing import Any

from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import (
    ActOn,
    Card,
    Finding,
    KeyNumber,
    OfferLine,
    Section,
    Summary,
    Table,
    Verdict,
)
from campaign_report.renderers.wording import (
    column_name,
    dimension_name,
    feature_label,
    group_name,
    target_name,
    verdict_sentence,
)

MAX_SEGMENT_ROWS = 10


def _pct_chart_values(values: list[float]) -> tuple[float, ...]:
    return tuple(v * 100 if math.isfinite(v) else 0.0 for v in values)


def experiment_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """The readout: verdicts, groups, SRM, CUPED, metrics, segments, observational promo."""
    exp = results.experiment
    assert exp is not None
    names = results.meta.names
    sec = Section("experiment", f.t("experiment.title"))
    treatments = [d.treatment for d in exp.decisions]
    multi = len(treatments) > 1
    for t in treatments:
        code, sentence, headline = verdict_sentence(f, results, t)
        summary.verdicts.append(Verdict(code=code, label=f.t(f"verdict.label_{code}"), sentence=sentence,
                                        headline=headline, treatment=t))
        sec.warnings.append(sentence) if code == "invalid" else sec.paragraphs.append(sentence)
    sec.headline = summary.verdicts[0].headline if summary.verdicts else sec.title
    control = group_name(f, names, exp.control)
    if exp.start and exp.end:
        sec.paragraphs.append(f.t("experiment.window", start=f.date(exp.start), end=f.date(exp.end),
                                  control=control))
    else:
        sec.paragraphs.append(f.t("experiment.outcomes_given", control=control))
    srm_line = f.t("experiment.srm_ok" if exp.srm.ok else "experiment.srm_bad", p=f.p_text(exp.srm.p_value))
    (sec.paragraphs if exp.srm.ok else sec.warnings).append(srm_line)
    if exp.excluded_customers:
        sec.paragraphs.append(f.t("experiment.excluded", customers=f.plural(exp.excluded_customers, "customer")))
    primary = next((m for m in exp.metrics if m.metric == exp.primary and m.variance_reduction is not None), None)
    if exp.cuped and primary is not None and primary.variance_reduction is not None:
        vr = primary.variance_reduction
        reduction = f.percent(vr, 1 if vr >= 0.01 else 2)
        metric = f.t(f"metric_short.{primary.metric}")
        if exp.covariate and exp.covariate != "pre_period":
            sec.paragraphs.append(f.t("experiment.cuped_column", column=column_name(f, names, exp.covariate),
                                      reduction=reduction, metric=metric))
        else:
            sec.paragraphs.append(f.t("experiment.cuped", days=f.plural(exp.pre_period_days, "day"),
                                      reduction=reduction, metric=metric))
        if vr < 0.01:
            sec.paragraphs.append(f.t("experiment.cuped_weak"))
    sec.paragraphs.append(f.t(f"experiment.correction_{exp.correction}"))
    sec.paragraphs.insert(2, f.t("experiment.groups") + ": " + "; ".join(
        f"{f.quote(group_name(f, names, g.name))} {f.integer(g.n)} ({f.percent(g.actual_share, 1)}, "
        f"{f.t('experiment.planned_short')} {f.percent(g.expected_share, 1)})" for g in exp.groups) + ".")
    header = [f.t("experiment.col_metric")] + ([f.t("experiment.group")] if multi else []) + [
        f.t("experiment.col_control"), f.t("experiment.col_treatment"), f.t("experiment.col_diff"),
        f.t("experiment.col_lift"), f.t("experiment.col_p"), f.t("experiment.col_mde")]
    rows = []
    for m in exp.metrics:
        lift = f"{f.percent(m.rel_lift, 1, sign=True)} ({f.percent_range(m.rel_ci_low, m.rel_ci_high)})"
        mark = "✓ " if m.significant else ""
        digits = f.money_digits(m.control_value, m.treatment_value)
        values = [f.money(m.control_value, digits), f.money(m.treatment_value, digits)] \
            if m.metric in ("average_check", "arpu") else \
            [f.metric_value(m.metric, m.control_value), f.metric_value(m.metric, m.treatment_value)]
        rows.append([f.t(f"metric.{m.metric}")] + ([group_name(f, names, m.treatment)] if multi else []) + [
            *values, f.metric_diff(m.metric, m.abs_diff), mark + lift, f.p_value(m.p_adjusted),
            f"±{f.percent(m.mde, 1)}"])
    first = treatments[0] if treatments else None
    sec.tables.append(Table(title=f.t("experiment.metrics"), header=header, rows=rows,
                            numeric=list(range(1 + multi, len(header))),
                            note="✓ — " + f.t("experiment.significant"),
                            headline="; ".join(
                                (f"{group_name(f, names, t)}: " if multi else "") + ", ".join(
                                    f"{f.t('metric_short.' + m.metric)} {f.percent(m.rel_lift, 1, sign=True)}"
                                    + ("" if m.significant else f" ({f.t('experiment.not_significant')})")
                                    for m in exp.metrics if m.treatment == t) for t in treatments)))
    conf = f.percent(exp.confidence, 0)
    shown = [m for m in exp.metrics if m.treatment == first]
    if shown:
        for t in treatments:
            for m in (m for m in exp.metrics if m.treatment == t):
                if m.metric not in ("conversion", "average_check", "arpu"):
                    continue
                digits = f.money_digits(m.control_value, m.treatment_value)
                before_after = (f"{f.money(m.control_value, digits)} → {f.money(m.treatment_value, digits)}"
                                if m.metric != "conversion" else
                                f"{f.metric_value(m.metric, m.control_value)} → "
                                f"{f.metric_value(m.metric, m.treatment_value)}")
                summary.key_numbers.append(KeyNumber(
                    label=f.t(f"metric.{m.metric}") + (f" — {group_name(f, names, t)}" if multi else ""),
                    value=f.percent(m.rel_lift, 1, sign=True),
                    detail=f"{before_after}; {conf} {f.t('doc.ci')} {f.percent_range(m.rel_ci_low, m.rel_ci_high)}; "
                           f"p {f.p_text(m.p_adjusted)}",
                    significant=m.significant, source="experiment"))
        series = []
        for t in treatments:
            ms = [m for m in exp.metrics if m.treatment == t]
            vals = [m.rel_lift for m in ms]
            series.append(Series(group_name(f, names, t), _pct_chart_values(vals),
                                 _pct_chart_values([m.rel_lift - m.rel_ci_low for m in ms]),
                                 _pct_chart_values([m.rel_ci_high - m.rel_lift for m in ms])))
        chart = ChartSpec("lift", "column", f.t("experiment.lift_chart", conf=conf), f.t("experiment.lift_unit"),
                          tuple(f.t(f"metric_short.{m.metric}") for m in shown), tuple(series), source,
                          decimal_mark=f.decimal)
        sec.charts.append(chart)
        sec.headlines["lift"] = sec.headline
    seg_rows = [e for e in exp.by_segment if e.metric == exp.primary]
    if seg_rows:
        order = {"cluster": 0, "rfm": 1}
        seg_rows = sorted(seg_rows, key=lambda e: (order.get(e.dimension, 2), e.dimension, -e.n_control,
                                                   e.segment, e.treatment))
        seg_rows = seg_rows[:MAX_SEGMENT_ROWS]
        sec.tables.append(Table(title=f.t("experiment.by_segment"), header=[
            f.t("experiment.col_dimension"), f.t("experiment.col_segment")]
            + ([f.t("experiment.group")] if multi else []) + [f.t("experiment.col_n"),
            f.t("experiment.col_diff"), f.t("experiment.col_lift"), f.t("experiment.col_p")],
            rows=[[dimension_name(f, names, e.dimension), _segment_name(f, e.dimension, e.segment)]
                  + ([group_name(f, names, e.treatment)] if multi else []) + [
                      f"{f.integer(e.n_control)} / {f.integer(e.n_treatment)}",
                      f.metric_diff(e.metric, e.abs_diff),
                      f"{f.percent(e.rel_lift, 1, sign=True)} ({f.percent_range(e.rel_ci_low, e.rel_ci_high)})",
                      f.p_value(e.p_adjusted)] for e in seg_rows],
            numeric=[i + multi for i in (2, 3, 4, 5)], note=f.t("experiment.by_segment_note")))
        clusters = [e for e in seg_rows if e.dimension == "cluster" and e.treatment == first]
        if clusters:
            chart = ChartSpec("segment_lift", "bar", f.t("experiment.segment_chart", conf=conf),
                              f.t("experiment.lift_unit"), tuple(e.segment for e in clusters),
                              (Series(first or "", _pct_chart_values([e.rel_lift for e in clusters]),
                                      _pct_chart_values([e.rel_lift - e.rel_ci_low for e in clusters]),
                                      _pct_chart_values([e.rel_ci_high - e.rel_lift for e in clusters])),),
                              source, decimal_mark=f.decimal)
            sec.charts.append(chart)
            best = max(clusters, key=lambda e: e.rel_lift if math.isfinite(e.rel_lift) else -1)
            sec.headlines["segment_lift"] = f.t("experiment.headline_segment", name=best.segment,
                                                lift=f.percent(best.rel_lift, 1, sign=True))
    for obs in exp.observational:
        if obs.outcome == "orders":
            sec.paragraphs.append(f.t("experiment.observational", name=obs.name) + ": " + f.t(
                "experiment.obs_orders") + f" {f.percent(obs.rel_effect, 1, sign=True)} "
                f"({f.percent(obs.ci_low, 1, sign=True)} … {f.percent(obs.ci_high, 1, sign=True)}).")
    if exp.observational:
        o = exp.observational[0]
        sec.tables.append(Table(title=f.t("experiment.observational", name=o.name), header=[
            f.t("experiment.col_outcome"), f.t("experiment.col_promo_days"), f.t("experiment.col_other_days"),
            f.t("experiment.col_effect"), "p"], rows=[[
                f.t("experiment.obs_orders" if e.outcome == "orders" else "experiment.obs_revenue"),
                f.number(e.promo_daily_mean, 0) if e.outcome == "orders" else f.money_short(e.promo_daily_mean),
                f.number(e.other_daily_mean, 0) if e.outcome == "orders" else f.money_short(e.other_daily_mean),
                f"{f.percent(e.rel_effect, 1, sign=True)} ({f.percent(e.ci_low, 1, sign=True)} … "
                f"{f.percent(e.ci_high, 1, sign=True)})", f.p_value(e.p_value)] for e in exp.observational],
            numeric=[1, 2, 3, 4], note=f.t("experiment.observational_note")))
    sec.notes = f.t("methods.experiment") + " " + f.t("methods.cuped")
    return sec


def _segment_name(f: Formatter, dimension: str, segment: str) -> str:
    if dimension == "rfm":
        try:
            return f.t(f"rfm.{segment}")
        except KeyError:
            return segment
    return segment


def cluster_name(f: Formatter, c: Any) -> str:
    """A cluster's generated name in the report's language."""
    return c.name_ru if f.language == "ru" else c.name_en


def offer_text(f: Formatter, offer: Any) -> str:
    """An offer's wording in the report's language."""
    return offer.text_ru if f.language == "ru" else offer.text_en


def segments_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Cluster portraits, k choice, RFM table and charts."""
    seg, rfm = results.segments, results.rfm
    sec = Section("segments", f.t("segments.title"))
    if seg is not None:
        key = {"auto_silhouette": "segments.k_auto", "auto_silhouette_at_limit": "segments.k_at_limit"}.get(
            seg.k_reason, "segments.k_fixed")
        sec.paragraphs.append(f.t(key, k=seg.k, silhouette=f.number(seg.silhouette, 2), cap=seg.k_searched))
        small = [c for c in seg.clusters if c.share < seg.min_share]
        if small:
            sec.warnings.append(f.t("segments.small_clusters", min=f.percent(seg.min_share, 0), items=", ".join(
                f"{f.quote(cluster_name(f, c))} ({f.plural(c.size, 'customer')})" for c in small)))
        free_text = [i for q in results.data_quality for i in q.issues if i.kind == "free_text_category"]
        for issue in free_text:
            sec.warnings.append(f.t("segments.free_text", column=issue.column or "category",
                                    n=f.integer(issue.count)))
        if seg.n_fitted < seg.n_customers:
            sec.paragraphs.append(f.t("segments.fitted_on", fitted=f.integer(seg.n_fitted),
                                      total=f.integer(seg.n_customers)))
        names = [cluster_name(f, c) for c in seg.clusters]
        biggest = max(seg.clusters, key=lambda c: c.revenue_share)
        sec.headline = f.t("segments.headline_few" if seg.k < 5 else "segments.headline_many", k=seg.k,
                           name=cluster_name(f, biggest), share=f.percent(biggest.revenue_share, 0))
        sec.charts.append(ChartSpec("cluster_sizes", "bar", f.t("segments.sizes_chart"), f.t("segments.share_unit"),
                                    tuple(names), (
                                        Series(f.t("segments.customers_share"),
                                               _pct_chart_values([c.share for c in seg.clusters])),
                                        Series(f.t("segments.revenue_share"),
                                               _pct_chart_values([c.revenue_share for c in seg.clusters]))),
                                    source, decimals=0, decimal_mark=f.decimal))
        sec.headlines["cluster_sizes"] = sec.headline
        summary.findings.append(Finding(label=f.t("doc.finding_segments"), sentence=sec.headline + "."))
        summary.key_numbers.append(KeyNumber(
            label=f.t("segments.kpi_k"), value=f.integer(seg.k),
            detail=f.t("segments.kpi_k_detail", name=cluster_name(f, biggest), share=f.percent(biggest.share, 0),
                       revenue=f.percent(biggest.revenue_share, 0)),
            significant=True, source="segments"))
        if seg.k_scores:
            sec.charts.append(ChartSpec("silhouette", "line", f.t("segments.silhouette_chart"),
                                        f.t("segments.silhouette_unit"), tuple(str(s.k) for s in seg.k_scores),
                                        (Series(f.t("segments.silhouette_unit"),
                                                tuple(s.silhouette for s in seg.k_scores)),), source,
                                        category_title="k", decimals=2, decimal_mark=f.decimal))
            sec.headlines["silhouette"] = f.t(
                "segments.k_auto", k=seg.k, silhouette=f.number(seg.silhouette, 2)).split(" (")[0]
        base_promo = None
        for c in seg.clusters:
            lines = [f.t("segments.size", customers=f.plural(c.size, "customer"), share=f.percent(c.share, 1),
                         revenue=f.percent(c.revenue_share, 1))]
            if c.mean_age is not None:
                lines.append(f.t("segments.age", age=f.number(c.mean_age, 0)))
            if c.female_share is not None:
                lines.append(f.t("segments.gender", female=f.percent(c.female_share, 0),
                                 known=f.percent(c.gender_known_share, 0)))
            lines.append(f.t("segments.check", check=f.money(c.average_check), orders=f.number(c.orders_mean, 1)))
            if c.promo_share is not None:
                base_promo = next((d.base_mean for d in c.distinctions if d.feature == "promo_share"), base_promo)
                lines.append(f.t("segments.promo", promo=f.percent(c.promo_share, 0),
                                 base=f.percent(base_promo, 0) if base_promo is not None else "—"))
            lines.append(f.t("segments.top_categories", items=", ".join(
                f"{name} {f.percent(v, 0)}" for name, v in c.top_categories)))
            if c.top_brands:
                lines.append(f.t("segments.top_brands", items=", ".join(
                    f"{name} {f.percent(v, 0)}" for name, v in c.top_brands)))
            distinct = [f"{feature_label(f, d.feature)} "
                        f"({f.t('segments.more' if d.std_diff > 0 else 'segments.less')}, "
                        f"{f.number(d.std_diff, 1, sign=True)} σ)" for d in c.distinctions[:3]]
            lines.append(f.t("segments.distinct", items="; ".join(distinct)))
            sec.cards.append(Card(title=f"{f.t('segments.cluster', id=c.id)} — {f.quote(cluster_name(f, c))}",
                                  lines=lines))
    if rfm is not None:
        names = [f.t(f"rfm.{s.name}") if s.name in f.strings["rfm"] else s.name for s in rfm.segments]
        sec.tables.append(Table(title=f.t("segments.rfm_title"), header=[
            f.t("segments.col_rfm"), f.t("segments.col_size"), f.t("segments.col_share"), f.t("segments.col_revenue"),
            f.t("segments.col_r"), f.t("segments.col_f"), f.t("segments.col_m")],
            rows=[[n, f.integer(s.size), f.percent(s.share, 1), f.percent(s.revenue_share, 1),
                      f.number(s.recency, 0), f.number(s.frequency, 1), f.money(s.monetary)]
                     for n, s in zip(names, rfm.segments, strict=True)],
            numeric=[1, 2, 3, 4, 5, 6], note=f.t("segments.rfm_note")))
        sec.charts.append(ChartSpec("rfm", "bar", f.t("segments.rfm_chart"), f.t("segments.share_unit"), tuple(names), (
            Series(f.t("segments.customers_share"), _pct_chart_values([s.share for s in rfm.segments])),
            Series(f.t("segments.revenue_share"), _pct_chart_values([s.revenue_share for s in rfm.segments]))),
            source, decimals=0, decimal_mark=f.decimal))
        risky = sum(s.share for s in rfm.segments if s.name in ("at_risk", "cant_lose", "lost"))
        sec.headlines["rfm"] = f.t("segments.headline_rfm", share=f.percent(risky, 0))
        risky_revenue = sum(s.revenue_share for s in rfm.segments if s.name in ("at_risk", "cant_lose", "lost"))
        summary.key_numbers.append(KeyNumber(label=f.t("segments.kpi_risk"), value=f.percent(risky, 0),
                                             detail=f.t("segments.kpi_risk_detail",
                                                        revenue=f.percent(risky_revenue, 0)),
                                             significant=True, source="segments"))
        if seg is None:
            summary.findings.append(Finding(label=f.t("doc.finding_segments"), sentence=sec.headlines["rfm"] + "."))
    sec.notes = f.t("methods.segments") + " " + f.t("segments.rfm_note")
    return sec


def propensity_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Model table, holdout metrics, leakage guard, drivers, gains, target list, action segment."""
    p = results.propensity
    assert p is not None
    sec = Section("propensity", f.t("propensity.title"))
    if p.target_source == "derived":
        sec.paragraphs.append(f.t("propensity.target_derived", days=p.target.split("_")[2].rstrip("d")))
    else:
        sec.paragraphs.append(f.t("propensity.target", target=target_name(f, results.meta.names, p.target),
                                  rate=f.percent(p.positive_rate, 1)))
    sec.paragraphs.append(f.t("propensity.sample", search=f.integer(p.n_search), total=f.integer(p.n_total),
                              train=f.integer(p.n_train), holdout=f.integer(p.n_holdout)))
    if p.n_population > p.n_total:
        sec.paragraphs.append(f.t("propensity.fitted_on", fitted=f.integer(p.n_total),
                                  total=f.integer(p.n_population)))
    model_name = f.t(f"model.{p.best}")
    h = p.holdout
    sec.paragraphs.append(f.t("propensity.best", model=model_name) + " " + f.t(
        "propensity.holdout", auc=f.number(h.roc_auc, 3), pr=f.number(h.pr_auc, 3), base=f.percent(h.base_rate, 0),
        threshold=f.number(h.threshold, 2), precision=f.percent(h.precision, 0), recall=f.percent(h.recall, 0),
        f1=f.number(h.f1, 2), brier=f.number(h.brier, 3)))
    sec.headline = f.t("propensity.headline", model=model_name, auc=f.number(h.roc_auc, 2))
    finding = f.t("propensity.finding", target=target_name(f, results.meta.names, p.target) if
                  p.target_source != "derived" else f.t("propensity.finding_derived"),
                  auc=f.number(h.roc_auc, 2), drivers=", ".join(feature_label(f, i.feature) for i in p.importance[:3]
                                                              if i.importance > 0) or "—")
    summary.findings.append(Finding(label=f.t("doc.finding_model"), sentence=finding))
    summary.key_numbers.append(KeyNumber(label=f.t("propensity.kpi_auc", model=model_name),
                                   value=f.number(h.roc_auc, 2),
                                   detail=f.t("propensity.kpi_auc_detail", pr=f.number(h.pr_auc, 2),
                                                 precision=f.percent(h.precision, 0), recall=f.percent(h.recall, 0)),
                                   significant=True, source="propensity"))
    if "holdout_auc_too_high" in p.warnings:
        sec.warnings.append(f.t("propensity.leak_model", auc=f.number(h.roc_auc, 4)))
    for feature, auc in p.leak_features:
        sec.warnings.append(f.t("propensity.leak_feature", feature=feature_label(f, feature), auc=f.number(auc, 3)))
    if not p.warnings:
        sec.paragraphs.append(f.t("propensity.leak_ok"))
    sec.tables.append(Table(title=f.t("propensity.models_chart"), header=[
        f.t("propensity.col_model"), f.t("propensity.col_cv"), f.t("propensity.col_std"), f.t("propensity.col_time")],
        rows=[[("✓ " if c.model == p.best else "") + f.t(f"model.{c.model}"), f.number(c.cv_score, 3),
                  f.number(c.cv_std, 3), f.number(c.fit_time, 1)] for c in
                 sorted(p.candidates, key=lambda c: -c.cv_score)], numeric=[1, 2, 3]))
    ranked = sorted(p.candidates, key=lambda c: -c.cv_score)
    sec.charts.append(ChartSpec("models", "bar", f.t("propensity.models_chart"), f.t("propensity.auc_unit"),
                                tuple(f.t(f"model.{c.model}") for c in ranked),
                                (Series("ROC-AUC", tuple(c.cv_score for c in ranked),
                                        tuple(c.cv_std for c in ranked), tuple(c.cv_std for c in ranked)),),
                                source, decimals=2, decimal_mark=f.decimal))
    sec.headlines["models"] = sec.headline
    top = [i for i in p.importance[:8]]
    sec.charts.append(ChartSpec("importance", "bar", f.t("propensity.importance_chart"),
                                f.t("propensity.importance_unit"), tuple(feature_label(f, i.feature) for i in top),
                                (Series(f.t("propensity.importance_unit"), tuple(i.importance for i in top),
                                        tuple(i.std for i in top), tuple(i.std for i in top)),), source, decimals=3,
                                decimal_mark=f.decimal))
    drivers = [f.t("propensity.higher" if i.direction > 0 else "propensity.lower", feature=feature_label(f, i.feature))
               for i in p.importance[:3] if i.importance > 0]
    if drivers:
        sec.paragraphs.append(f.t("propensity.drivers") + ": " + "; ".join(drivers) + ".")
        sec.headlines["importance"] = f.t("propensity.headline_drivers", drivers=", ".join(
            feature_label(f, i.feature) for i in p.importance[:3]))
    sec.charts.append(ChartSpec("gains", "line", f.t("propensity.gains_chart"), f.t("propensity.gains_y"),
                                tuple(f.percent(x, 0) for x, _ in p.gains), (
                                    Series(f.t("propensity.model_curve"), tuple(y * 100 for _, y in p.gains)),
                                    Series(f.t("propensity.random_curve"), tuple(x * 100 for x, _ in p.gains))),
                                source, category_title=f.t("propensity.gains_x"), decimals=0, decimal_mark=f.decimal))
    top30 = p.gains[2][1] if len(p.gains) > 2 else math.nan
    sec.headlines["gains"] = f.t("propensity.headline_gains", found=f.percent(top30, 0))
    if p.imputation is not None:
        im = p.imputation
        line = f.t("propensity.imputation", n=f.integer(im.n_imputed), f1=f.number(im.f1, 2),
                   accuracy=f.percent(im.accuracy, 0))
        sec.paragraphs.append(line)
    a = p.action_segment
    tl = p.target_list
    population = (tl.score_filter_name or f.t("propensity.filtered_population")) if tl and tl.score_filter else \
        f.t("propensity.all_customers")
    if tl is not None:
        line = f.t("propensity.target_list", customers=f.plural(tl.size, "customer"), filter=population,
                   above=f.plural(tl.above_threshold, "customer"), threshold=f.number(tl.threshold, 2))
        sec.paragraphs.append(line)
    if a is not None and a.size:
        lines = [f.t("propensity.action", customers=f.plural(a.size, "customer"), share=f.percent(a.share, 1),
                     pcut=f.number(a.probability_cut, 2), profit_cut=f.money(a.profit_cut),
                     prob=f.number(a.probability_mean, 2), profit=f.money(a.profit_mean),
                     base_profit=f.money(a.base_profit_mean))]
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
        sec.cards.append(Card(title=f.t("propensity.action_title"), lines=lines))
        # One "who to act on" number on page 1: the action segment, with the list it comes from explained.
        explained = f.t("propensity.act_on_explained", customers=f.plural(a.size, "customer"),
                        pcut=f.number(a.probability_cut, 2), profit_cut=f.money(a.profit_cut),
                        scored=f.plural(tl.size if tl else a.size, "customer"), filter=population)
        summary.key_numbers.append(KeyNumber(label=f.t("propensity.act_on_label"), value=f.integer(a.size),
                                             detail=f.t("propensity.act_on_short", pcut=f.number(a.probability_cut, 2),
                                                        profit_cut=f.money(a.profit_cut)),
                                             significant=True, source="propensity"))
        summary.act_on.append(ActOn(title=f.t("propensity.action_title"), text=explained))
    elif tl is not None:
        summary.key_numbers.append(KeyNumber(label=f.t("propensity.list_label", threshold=f.number(tl.threshold, 2)),
                                             value=f.integer(tl.above_threshold), detail=line, significant=True,
                                             source="propensity"))
    sec.notes = f.t("methods.propensity")
    return sec


def offers_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Related categories and the offers per segment with their evidence."""
    o = results.offers
    assert o is not None
    sec = Section("offers", f.t("offers.title"))
    note = f.t("offers.note") if results.experiment is not None else f.t("offers.note_plain")
    sec.paragraphs.append(note)
    names = {}
    if results.segments is not None:
        names = {str(c.id): cluster_name(f, c) for c in results.segments.clusters}
    if o.pairs:
        sec.tables.append(Table(title=f.t("offers.pairs_title"), header=[
            f.t("offers.col_category"), f.t("offers.col_related"), f.t("offers.col_lift"), f.t("offers.col_support")],
            rows=[[p.category, p.related, f.number(p.lift, 2), f.percent(p.support, 1)] for p in o.pairs[:8]],
            numeric=[2, 3]))
    rfm_rows: list[list[str]] = []
    rest: list[str] = []
    for s in o.segments:
        if s.kind == "cluster":
            title = f.t("offers.cluster", name=names.get(s.key, s.key))
        elif s.kind == "rfm":
            title = f.t("offers.rfm", name=f.t(f"rfm.{s.key}") if s.key in f.strings["rfm"] else s.key)
        else:
            title = f.t("offers.action")
        ev = s.evidence
        facts = [f.t(f"evidence.{k}", v=f.number(v, 2)) for k, v in ev.values.items()
                 if k in f.strings["evidence"]]
        lines = [f.t("offers.facts", customers=f.plural(s.size, "customer"), items=", ".join(facts[:5]))]
        if ev.ab is not None:
            lines.append(f"A/B ({f.t('metric.' + ev.ab.metric)}): {f.percent(ev.ab.rel_lift, 1, sign=True)} "
                         f"({f.percent_range(ev.ab.rel_ci_low, ev.ab.rel_ci_high)})")
        for offer in s.offers:
            text = offer_text(f, offer)
            lines.append(f"{offer.rank}. {text}")
            if offer.expected_effect is not None:
                lines.append("   " + f.t("offers.expected", effect=f.money_short(offer.expected_effect, sign=True),
                                         low=f.money_short(offer.expected_low, sign=True),
                                         high=f.money_short(offer.expected_high, sign=True)))
        if s.offers and all(o.expected_effect is None for o in s.offers):
            lines.append(f.t("offers.untested"))
        if not s.offers:
            # Folded into one catch-all card below rather than a card (and a slide) per empty segment.
            reason = f.t("offers.reason_too_few", min=f.integer(o.min_customers)) \
                if any(r == "too_few_customers" for _, r in s.blocked) else \
                f.t("offers.reason_campaign") if s.blocked else f.t("offers.reason_no_rule")
            rest.append(f"{title} ({f.plural(s.size, 'customer')}): {reason}")
            continue
        for _, reason in s.blocked:
            lines.append(f.t("offers.too_few" if reason == "too_few_customers" else "offers.blocked_campaign"))
        if s.kind == "rfm":
            rfm_rows.append([title.split(": ", 1)[-1], f.integer(s.size), ", ".join(facts[:2]),
                             "; ".join(offer_text(f, o) for o in s.offers[:1])])
            continue
        sec.cards.append(Card(title=title, lines=lines, kind=s.kind))
        if s.kind in ("cluster", "action"):
            summary.offers.append(OfferLine(segment=title, offer=offer_text(f, s.offers[0])))
    if rest:
        sec.cards.append(Card(title=f.t("offers.catch_all"), lines=[f.t("offers.catch_all_text"), *rest],
                              kind="catch_all"))
    if rfm_rows:
        sec.tables.append(Table(title=f.t("offers.rfm_table"), header=[
            f.t("segments.col_rfm"), f.t("segments.col_size"), f.t("offers.evidence"), f.t("offers.col_offer")],
            rows=rfm_rows, numeric=[1]))
    sec.notes = note
    return sec


def run_note_text(f: Formatter, code: str, detail: str) -> str:
    """One 'ran differently from the config' note in words."""
    return f.t(f"run_note.{code}", detail=detail)


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
