"""The A/B readout section: verdict per arm, key numbers, metric and segment tables."""

from __future__ import annotations

import math

from campaign_report.analysis.experiment.result import ExperimentResult, SegmentEffect
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series, percent_points
from campaign_report.renderers.format import NBSP, Formatter
from campaign_report.renderers.sections.appendix import experiment_methods
from campaign_report.renderers.view_model import Caveat, KeyNumber, Section, Summary, Table, Verdict
from campaign_report.renderers.wording import (
    ci_label,
    column_name,
    dimension_name,
    group_name,
    lift_interval,
    lower_first,
    metric_ci_label,
    mixed_sentence,
    segment_name,
    verdict_sentence,
)

MAX_SEGMENT_ROWS = 10


def primary_lift_text(f: Formatter, results: Results, treatment: str) -> str:
    """"ARPU +42,6 %": the arm's lift of the metric its decision was made on (the e-mail subject)."""
    exp = results.experiment
    assert exp is not None
    m = exp.decided_on(treatment)
    lift = f.percent(m.rel_lift, 1, sign=True) if math.isfinite(m.rel_lift) else f.metric_diff(m.metric, m.abs_diff)
    return f"{f.t(f'metric_short.{m.metric}')} {lift}"


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
        label = f.t(f"verdict.label_{code}")
        if exp.look is not None and exp.look.interim:
            running = code == "no_detectable_effect"
            label = f.t("verdict.label_interim", day=exp.look.day, days=exp.look.days) + ": " + lower_first(
                f.t("verdict.label_running") if running else label)
        summary.verdicts.append(Verdict(code=code, label=label, sentence=sentence,
                                        headline=headline, treatment=t))
        sec.warnings.append(sentence) if code == "invalid" else sec.paragraphs.append(sentence)
    if exp.decision.verdict == "mixed":
        sentence, headline = mixed_sentence(f, results)
        summary.verdicts.insert(0, Verdict(code="mixed", label=f.t("verdict.label_mixed"), sentence=sentence,
                                           headline=headline, treatment=""))
        sec.paragraphs.insert(0, sentence)
    sec.headline = summary.verdicts[0].headline if summary.verdicts else sec.title
    control = group_name(f, names, exp.control)
    if exp.start and exp.end:
        sec.paragraphs.append(f.t("experiment.window", start=f.date(exp.start), end=f.date(exp.end),
                                  control=control))
    else:
        sec.paragraphs.append(f.t("experiment.outcomes_given", control=control))
    srm_line = f.t("experiment.srm_ok" if exp.srm.ok else "experiment.srm_bad", p=f.p_text(exp.srm.p_value)) + (
        f.t("experiment.srm_equal") if exp.equal_split_assumed and len(exp.groups) > 1 else "")
    (sec.paragraphs if exp.srm.ok else sec.warnings).append(srm_line)
    if exp.look is not None and exp.look.interim:
        sec.paragraphs.append(f.t("experiment.look_interim", day=exp.look.day, days=exp.look.days))
    kind = "sequential" if exp.inference == "sequential" else "fixed"
    if kind == "sequential":
        summary.caveats.append(Caveat(f.t("experiment.summary_sequential" + (
            "_configured" if exp.inference_reason == "configured" else "")), source="experiment"))
    sec.paragraphs.append(f.t(f"experiment.inference_{kind}_{exp.inference_reason}",
                              looks=f.plural(exp.earlier_looks, "time")))
    if exp.revenue_cap is not None:
        sec.paragraphs.append(f.t("experiment.revenue_cap", cap=f.money(exp.revenue_cap),
                                  percentile=f.percent(exp.cap_percentile, 0)))
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
    sec.paragraphs.append(f.t(f"experiment.correction_{exp.correction}", conf=f.percent(exp.confidence, 0),
                              alpha=f.number(1 - exp.confidence, 2),
                              family=f.t(f"experiment.family_{exp.family}",
                                         comparisons=f.plural(exp.family_size, "comparison"))))
    groups_line = f.t("experiment.groups") + ": " + "; ".join(
        f"{f.quote(group_name(f, names, g.name))} {f.integer(g.n)} ({f.percent(g.actual_share, 1)}, "
        f"{f.t('experiment.planned_short')} {f.percent(g.expected_share, 1)})" for g in exp.groups) + "."
    if exp.not_compared:
        groups_line += " " + f.t("experiment.not_compared", groups=", ".join(
            f"{f.quote(group_name(f, names, g.name))} ({f.plural(g.n, 'customer')})" for g in exp.not_compared))
    sec.paragraphs.insert(2 + (exp.decision.verdict == "mixed"), groups_line)
    header = [f.t("experiment.col_metric")] + ([f.t("experiment.group")] if multi else []) + [
        f.t("experiment.col_control"), f.t("experiment.col_treatment"), f.t("experiment.col_diff"),
        f.t("experiment.col_lift"), f.t("experiment.col_p"), f.t("experiment.col_mde")]
    rows = []
    for m in exp.metrics:
        lift = (f"{f.percent(m.rel_lift, 1, sign=True)} "
                f"({lift_interval(f, m.metric, m.rel_ci_low, m.rel_ci_high, m.ci_low, m.ci_high)})")
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
                            note="✓ — " + f.t("experiment.significant") + "; " + ci_label(
                                f, exp.confidence, [m.ci_level for m in exp.metrics]),
                            headline=_metrics_headline(f, exp), appendix=True))
    ci_metrics = ci_label(f, exp.confidence, [m.ci_level for m in exp.metrics])
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
                if m.cuped:  # the group means are adjusted: the plain ones differ (demo: 1 826 → 2 659 ₽)
                    before_after += f" {f.t('experiment.cuped_means')}"
                summary.key_numbers.append(KeyNumber(
                    label=f.t(f"metric.{m.metric}") + (f" — {group_name(f, names, t)}" if multi else ""),
                    value=f.percent(m.rel_lift, 1, sign=True),
                    detail=f"{before_after}; {metric_ci_label(f, exp, m)} "
                           f"{lift_interval(f, m.metric, m.rel_ci_low, m.rel_ci_high, m.ci_low, m.ci_high)}; "
                           f"p{NBSP}{f.p_text(m.p_adjusted)}",
                    significant=m.significant, source="experiment", primary=m.metric == exp.primary))
        series = []
        for t in treatments:
            ms = [m for m in exp.metrics if m.treatment == t]
            vals = [m.rel_lift for m in ms]
            series.append(Series(group_name(f, names, t), percent_points(vals),
                                 percent_points([m.rel_lift - m.rel_ci_low for m in ms]),
                                 percent_points([m.rel_ci_high - m.rel_lift for m in ms]),
                                 muted=tuple(not m.significant for m in ms)))
        chart = ChartSpec("lift", "column", f.t("experiment.lift_chart", ci=ci_metrics), f.t("experiment.lift_unit"),
                          tuple(f.t(f"metric_short.{m.metric}") for m in shown), tuple(series), source,
                          decimal_mark=f.decimal, shades=True)
        sec.charts.append(chart)
        # The lift slide's title says where the primary metric's change comes from (the summary slide states
        # the verdict); the table behind it goes to the deck's appendix.
        lead = exp.decision.treatment if exp.decision.treatment in treatments else first or ""
        sec.headlines["lift"] = _lift_headline(f, exp, group_name(f, names, lead) if multi else "", lead) \
            or sec.tables[0].headline
        sec.so_what["lift"] = [v.sentence for v in summary.verdicts][:2] + [srm_line]
    seg_rows = [e for e in exp.by_segment if e.metric == exp.primary]
    if seg_rows:
        order = {"cluster": 0, "rfm": 1}

        def display(e: SegmentEffect) -> tuple:
            return order.get(e.dimension, 2), e.dimension, -e.n_control, e.segment, e.treatment

        seg_rows = sorted(seg_rows, key=display)
        # What fits: significant rows first, then the largest segments; the rest are said, and in the appendix.
        shown_rows = sorted(sorted(seg_rows, key=lambda e: (not e.significant, -(e.n_control + e.n_treatment)))
                            [:MAX_SEGMENT_ROWS], key=display)
        header = [f.t("experiment.col_dimension"), f.t("experiment.col_segment")] + (
            [f.t("experiment.group")] if multi else []) + [f.t("experiment.col_n"), f.t("experiment.col_diff"),
                                                            f.t("experiment.col_lift"), f.t("experiment.col_p")]

        def row(e: SegmentEffect) -> list[str]:
            return [dimension_name(f, names, e.dimension), segment_name(f, e.dimension, e.segment)] + (
                [group_name(f, names, e.treatment)] if multi else []) + [
                f"{f.integer(e.n_control)} / {f.integer(e.n_treatment)}", f.metric_diff(e.metric, e.abs_diff),
                f"{f.percent(e.rel_lift, 1, sign=True)} "
                f"({lift_interval(f, e.metric, e.rel_ci_low, e.rel_ci_high, e.ci_low, e.ci_high, short=True)})",
                f.p_value(e.p_adjusted)]

        note = f.t("experiment.by_segment_note")
        if len(shown_rows) < len(seg_rows):
            note += " " + f.t("experiment.by_segment_more", shown=f.integer(len(shown_rows)),
                              total=f.plural(len(seg_rows), "row_of"))
            sec.appendix_tables.append(Table(title=f.t("experiment.by_segment_all"), header=header,
                                             rows=[row(e) for e in seg_rows], numeric=[i + multi for i in (2, 3, 4, 5)],
                                             note=f.t("details.note"), headline=f.t("experiment.by_segment_all"),
                                             appendix=True))
        sec.tables.append(Table(title=f.t("experiment.by_segment"), header=header, rows=[row(e) for e in shown_rows],
                                numeric=[i + multi for i in (2, 3, 4, 5)], note=note,
                                headline=f.t("experiment.by_segment"), appendix=True,
                                abridged=len(shown_rows) < len(seg_rows)))
        clusters = [e for e in seg_rows if e.dimension == "cluster" and e.treatment == first]
        if clusters:
            chart = ChartSpec("segment_lift", "bar", f.t("experiment.segment_chart", ci=ci_label(
                                  f, exp.confidence, [e.ci_level for e in clusters])),
                              f.t("experiment.lift_unit"), tuple(e.segment for e in clusters),
                              (Series(group_name(f, names, first) if first else "",
                                      percent_points([e.rel_lift for e in clusters]),
                                      percent_points([e.rel_lift - e.rel_ci_low for e in clusters]),
                                      percent_points([e.rel_ci_high - e.rel_lift for e in clusters]),
                                      muted=tuple(not e.significant for e in clusters)),),
                              source, decimal_mark=f.decimal)
            sec.charts.append(chart)
            best = max(clusters, key=lambda e: e.rel_lift if math.isfinite(e.rel_lift) else -1)
            differ = any(h.differ for h in exp.heterogeneity if h.dimension == "cluster" and h.treatment == first
                         and h.metric == exp.primary)
            # A strongest segment is a finding only when the clusters' effects differ beyond chance, and "strongest"
            # only when its interval clears every other's; else the highest estimate is said as an estimate.
            clear = all(best.rel_ci_low > e.rel_ci_high for e in clusters if e is not best)
            key = "headline_segment" if differ and clear else "headline_segment_highest" if differ else \
                "headline_segment_same"
            sec.headlines["segment_lift"] = f.t(f"experiment.{key}", name=best.segment,
                                                metric=f.t(f"metric_short.{exp.primary}"),
                                                lift=f.percent(best.rel_lift, 1, sign=True))
            sec.so_what["segment_lift"] = [f.t("experiment.by_segment_note")]
    for obs in exp.observational:
        if obs.outcome == "orders":
            sec.paragraphs.append(f.t("experiment.observational", name=obs.name) + ": " + f.t(
                "experiment.obs_orders") + f" {f.percent(obs.rel_effect, 1, sign=True)} "
                f"({f.percent(obs.ci_low, 1, sign=True)} … {f.percent(obs.ci_high, 1, sign=True)}).")
            if obs.placebo_effects:
                sec.paragraphs.append(f.t("experiment.placebo", days=f.plural(len(obs.placebo_effects), "day"),
                                          as_large=obs.placebo_as_large,
                                          p=f.p_text(obs.placebo_p)))
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
    sec.notes = experiment_methods(f, results) + (" " + f.t("methods.cuped") if exp.cuped else "")
    return sec


def _lift_headline(f: Formatter, exp: ExperimentResult, arm: str, treatment: str | None) -> str:
    """The primary metric's lift and what moved it: more buyers, a higher check, both, or neither on its own;
    a primary change that cannot be told from noise is said as such, not dressed up."""
    by_metric = {m.metric: m for m in exp.metrics if m.treatment == treatment}
    primary = by_metric.get(exp.primary)
    if primary is None:
        return ""
    prefix = f"{f.quote(arm)} — " if arm else ""
    name = f.t(f"metric_short.{primary.metric}")
    lift = f.percent(primary.rel_lift, 1, sign=True)
    if not primary.significant:
        return prefix + f.t("experiment.lift_headline_noise", metric=name, lift=lift)
    conversion, check = by_metric.get("conversion"), by_metric.get("average_check")
    if primary.metric == "arpu" and conversion is not None and check is None and conversion.significant:
        return prefix + f.t("experiment.lift_headline_conversion", metric=name, lift=lift,
                            conversion=f.percent(conversion.rel_lift, 1, sign=True))
    if primary.metric != "arpu" or conversion is None or check is None:
        return prefix + f.t("experiment.lift_headline_plain", metric=name, lift=lift)
    parts = {(True, True): "both", (True, False): "buyers", (False, True): "check", (False, False): "neither"}
    driver = parts[(conversion.significant, check.significant)]
    return prefix + f.t(f"experiment.lift_headline_{driver}", metric=name, lift=lift,
                        conversion=f.percent(conversion.rel_lift, 1, sign=True),
                        check=f.percent(check.rel_lift, 1, sign=True))


def _metrics_headline(f: Formatter, exp: ExperimentResult) -> str:
    """The metrics table's finding: how many of the measured changes are beyond noise, and which way."""
    up = sum(m.significant and m.rel_lift > 0 for m in exp.metrics)
    down = sum(m.significant and m.rel_lift < 0 for m in exp.metrics)
    key = "experiment.metrics_headline_all" if up == len(exp.metrics) else \
        "experiment.metrics_headline_none" if not up and not down else \
        "experiment.metrics_headline_mixed" if up and down else \
        "experiment.metrics_headline_up" if up else "experiment.metrics_headline_down"
    return f.t(key, up=f.integer(up), down=f.integer(down), total=f.integer(len(exp.metrics)))
