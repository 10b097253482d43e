"""Campaign readout: A/B metrics for any number of groups, SRM, CUPED, power, verdicts, segments.

Verdict rules (per treatment, on the primary metric, after the multiple-testing correction):
- invalid: the sample-ratio check fails, the arm or control is below the minimum size, conversion is
  ≥ 99 % in any group (a control drawn from buyers) or zero everywhere, or the primary metric is undefined;
- win / loss: the adjusted p-value is below 1 − confidence, by the sign of the effect;
- no_detectable_effect: otherwise, reported with the MDE ("the test could detect ±X").
The overall decision is "invalid" if any arm is, "mixed" when one arm wins and another loses, else the
strongest of win, loss, no effect.

The correction family is every metric × arm ("all") or the primary metric × arms ("primary"; the
secondary metrics are then corrected among themselves). Intervals are shown at the level that matches
the adjusted p-value (`stats.adjusted_level`), so an interval excludes zero exactly when the test
decides; MDE and power are at α divided by the family's size.
"""

from __future__ import annotations

import math

import numpy as np

from campaign_report.analysis.config import ExperimentConfig
from campaign_report.analysis.experiment.result import (
    Decision,
    ExperimentResult,
    GroupSize,
    HeadToHead,
    Heterogeneity,
    Look,
    MetricResult,
    ObservationalEffect,
    SegmentEffect,
    SrmCheck,
)
from campaign_report.analysis.experiment.sequential import Sequential
from campaign_report.analysis.experiment.stats import (
    Comparison,
    GroupMoments,
    adjust_pvalues,
    adjusted_level,
    cochran_q,
    compare,
    srm_test,
)
from campaign_report.analysis.experiment.sums import OUTCOMES, CellSums, ExperimentSums

METRIC_COLUMNS = {
    # metric: (numerator, denominator, pre-period numerator, pre-period denominator)
    "conversion": ("converted", None, "pre_converted", None),
    "average_check": ("revenue", "orders", "pre_revenue", "pre_orders"),
    "arpu": ("revenue", None, "pre_revenue", None),
    "orders_per_customer": ("orders", None, "pre_orders", None),
}
SATURATED_CONVERSION = 0.99
MIN_SEGMENT_GROUP = 50


def _moments(cell: CellSums, metric: str) -> GroupMoments:
    """The metric's (y, d, u, w) block of the group's sums; a missing column is the constant 1."""
    index = [0 if c is None else 1 + OUTCOMES.index(c) for c in METRIC_COLUMNS[metric]]
    sums, cross = cell.augmented()
    if cell.n < 2:
        y, d, u, w = (float(v) for v in sums[index] / max(cell.n, 1))
        return GroupMoments(n=cell.n, mean=(y, d, u, w), cov=((0.0,) * 4,) * 4)
    return GroupMoments.from_sums(cell.n, sums[index], cross[np.ix_(index, index)])


def _compare(cells: dict[str, CellSums], control: str, treatment: str, metric: str, settings: ExperimentConfig,
             cuped: bool, tests_in_family: int = 1, look: Look | None = None) -> Comparison:
    return compare(_moments(cells[control], metric), _moments(cells[treatment], metric),
                   confidence=settings.confidence, cuped=cuped, use_t=metric != "conversion",
                   power=settings.power, min_effect=settings.min_effect, tests_in_family=tests_in_family,
                   sequential=Sequential(1 - settings.confidence) if settings.sequential is True else None,
                   information=look.information if look is not None else 1.0)


def _families(metrics: list[str], treatments: list[str], primary: str, family: str) -> list[list[tuple[str, str]]]:
    """(metric, treatment) pairs grouped into correction families."""
    pairs = [(m, t) for t in treatments for m in metrics]
    if family == "primary":
        return [f for f in ([p for p in pairs if p[0] == primary], [p for p in pairs if p[0] != primary]) if f]
    return [pairs]


def _adjusted(comparisons: dict[tuple[str, str], Comparison], families: list[list[tuple[str, str]]],
              method: str) -> dict[tuple[str, str], float]:
    adjusted: dict[tuple[str, str], float] = {}
    for family in families:
        ps = adjust_pvalues([comparisons[k].p_value for k in family], method)
        adjusted.update(zip(family, ps, strict=True))
    return adjusted


def _method(metric: str, cuped: bool) -> str:
    base = {"conversion": "z_test_unpooled", "average_check": "delta_method_ratio"}.get(metric, "welch_t")
    return base + ("+cuped" if cuped else "")


def _decide(treatment: str, metrics: list[MetricResult], srm: SrmCheck, sizes: dict[str, int],
            conversion_by_group: dict[str, float], settings: ExperimentConfig, window_has_data: bool) -> Decision:
    primary = next(m for m in metrics if m.metric == settings.primary and m.treatment == treatment)
    reasons = []
    if not window_has_data:
        reasons.append("no_data_in_window")
    if not srm.ok:
        reasons.append("srm_failed")
    if min(sizes[primary.control], sizes[treatment]) < settings.min_group_size:
        reasons.append("too_small")
    if any(v >= SATURATED_CONVERSION for v in conversion_by_group.values()):
        reasons.append("conversion_saturated")
    if all(v == 0 for v in conversion_by_group.values()):
        reasons.append("no_conversions")
    if not math.isfinite(primary.control_value) or not math.isfinite(primary.p_value):
        reasons.append("metric_undefined")
    if reasons:
        return Decision(treatment, "invalid", primary.metric, tuple(reasons))
    if primary.significant:
        verdict = "win" if primary.abs_diff > 0 else "loss"
        return Decision(treatment, verdict, primary.metric, ())
    return Decision(treatment, "no_detectable_effect", primary.metric, ("not_significant",))


def _log_ratio_se(c: Comparison) -> float:
    """Standard error of log(treatment / control): var_t / t² + var_c / c² (delta method); NaN when either
    mean is not positive (no ratio to pool)."""
    if c.treatment_value <= 0 or c.control_value <= 0:
        return math.nan
    return math.sqrt(c.var_treatment / c.treatment_value ** 2 + c.var_control / c.control_value ** 2)


def _segment_effects(sums: ExperimentSums, control: str, treatments: list[str], settings: ExperimentConfig,
                     look: Look | None = None) -> tuple[SegmentEffect, ...]:
    rows: list[dict] = []
    kept: list[Comparison] = []
    metrics = [m for m in dict.fromkeys([settings.primary, "conversion"]) if m in settings.metrics]
    for (dimension, segment), part in sorted(sums.segments.items()):
        for treatment in treatments:
            n_c = part[control].n if control in part else 0
            n_t = part[treatment].n if treatment in part else 0
            if min(n_c, n_t) < MIN_SEGMENT_GROUP:
                continue
            for metric in metrics:
                c = _compare(part, control, treatment, metric, settings, cuped=False, look=look)
                if not math.isfinite(c.p_value):
                    continue
                rows.append(dict(dimension=dimension, segment=str(segment), treatment=treatment,
                                 metric=metric, n_control=n_c, n_treatment=n_t,
                                 control_value=c.control_value, treatment_value=c.treatment_value,
                                 abs_diff=c.abs_diff, rel_lift=c.rel_lift, p_value=c.p_value, std_error=c.se,
                                 log_ratio_se=_log_ratio_se(c)))
                kept.append(c)
    adjusted = adjust_pvalues([r["p_value"] for r in rows], "bh")
    alpha = 1 - settings.confidence
    effects = []
    for row, comparison, p in zip(rows, kept, adjusted, strict=True):
        ci = comparison.interval(adjusted_level(row["p_value"], p, settings.confidence))
        effects.append(SegmentEffect(**row, ci_low=ci.low, ci_high=ci.high, rel_ci_low=ci.rel_low,
                                     rel_ci_high=ci.rel_high, p_adjusted=p, significant=p < alpha,
                                     ci_level=ci.level))
    return tuple(effects)


def segment_heterogeneity(effects: tuple[SegmentEffect, ...], confidence: float) -> tuple[Heterogeneity, ...]:
    """Cochran's Q per cut, arm and metric: the segments' effects against their precision-weighted mean."""
    out = []
    groups: dict[tuple[str, str, str], list[SegmentEffect]] = {}
    for e in effects:
        groups.setdefault((e.dimension, e.treatment, e.metric), []).append(e)
    for (dimension, treatment, metric), rows in groups.items():
        usable = [e for e in rows if math.isfinite(e.std_error) and e.std_error > 0]
        if len(usable) < 2:
            continue
        q, df, p = cochran_q([e.abs_diff for e in usable], [e.std_error for e in usable])
        out.append(Heterogeneity(dimension, treatment, metric, q, df, p, p < 1 - confidence))
    return tuple(out)


def analyze_experiment(sums: ExperimentSums, settings: ExperimentConfig, control: str, excluded: int,
                       observational: tuple[ObservationalEffect, ...] = (),
                       pre_period_days: int = 0, window_has_data: bool = True,
                       covariate: str = "", not_compared: tuple[GroupSize, ...] = (), look: Look | None = None,
                       revenue_cap: float | None = None) -> ExperimentResult:
    """Readout of every treatment group against control on every configured metric.

    `sums` holds the engine's aggregates per compared group (and per group × segment for the segment cuts).
    """
    cells = sums.groups
    names = sorted(cells, key=lambda g: (g != control, str(g)))
    treatments = [g for g in names if g != control]
    sizes = {g: cells[g].n for g in names}
    split = dict(settings.expected_split)
    shares = [split[g] for g in names] if split else [1.0] * len(names)
    chi2, srm_p = srm_test([sizes[g] for g in names], shares)
    srm = SrmCheck(chi2=chi2, p_value=srm_p, ok=srm_p >= settings.srm_alpha)
    total = sum(sizes.values())
    groups = tuple(GroupSize(g, sizes[g], s / sum(shares), sizes[g] / total) for g, s in zip(names, shares,
                                                                                           strict=True))
    pre = OUTCOMES.index("pre_revenue")
    has_pre = any(c.cross[pre][pre] > 0 for c in cells.values())
    cuped = settings.cuped and has_pre
    families = _families(list(settings.metrics), treatments, settings.primary, settings.family)
    size_of = {pair: len(family) for family in families for pair in family}
    comparisons = {(m, t): _compare(cells, control, t, m, settings, cuped, size_of[(m, t)], look)
                   for t in treatments for m in settings.metrics}
    adjusted = _adjusted(comparisons, families, settings.correction)
    alpha = 1 - settings.confidence
    metrics = []
    for (m, t), c in comparisons.items():
        p = adjusted[(m, t)]
        ci = c.interval(adjusted_level(c.p_value, p, settings.confidence))
        metrics.append(MetricResult(
            metric=m, control=control, treatment=t, n_control=sizes[control], n_treatment=sizes[t],
            control_value=c.control_value, treatment_value=c.treatment_value, abs_diff=c.abs_diff,
            rel_lift=c.rel_lift, ci_low=ci.low, ci_high=ci.high,
            rel_ci_low=ci.rel_low if math.isfinite(c.rel_lift) else math.nan,
            rel_ci_high=ci.rel_high if math.isfinite(c.rel_lift) else math.nan, p_value=c.p_value,
            p_adjusted=p, significant=bool(p < alpha), method=_method(m, c.theta != 0), cuped=c.theta != 0,
            variance_reduction=c.variance_reduction, mde=c.mde, mde_abs=c.mde_abs, power=c.power,
            ci_level=ci.level, family_size=size_of[(m, t)]))
    conversion = {g: cells[g].mean("converted") for g in names}
    decisions = tuple(_decide(t, metrics, srm, sizes, conversion, settings, window_has_data) for t in treatments)
    head_to_head = _head_to_head(cells, metrics, decisions, settings, cuped, look)
    by_segment = _segment_effects(sums, control, treatments, settings, look)
    heterogeneity = segment_heterogeneity(by_segment, settings.confidence)
    return ExperimentResult(
        start=str(settings.start) if settings.start else None, end=str(settings.end) if settings.end else None,
        control=control, groups=groups,
        excluded_customers=excluded, srm=srm, metrics=tuple(metrics), decisions=decisions,
        decision=overall_decision(decisions), by_segment=by_segment, heterogeneity=heterogeneity,
        observational=observational,
        primary=settings.primary, confidence=settings.confidence, correction=settings.correction,
        cuped=any(m.cuped for m in metrics), pre_period_days=pre_period_days,
        covariate=covariate if any(m.cuped for m in metrics) else "", family=settings.family,
        family_size=len(families[0]) if families else 0, not_compared=not_compared,
        inference="sequential" if settings.sequential is True else "fixed_horizon", look=look, revenue_cap=revenue_cap,
        equal_split_assumed=not split, cap_percentile=settings.cap_revenue if revenue_cap is not None else None,
        head_to_head=head_to_head)


def _head_to_head(cells: dict[str, CellSums], metrics: list[MetricResult], decisions: tuple[Decision, ...],
                  settings: ExperimentConfig, cuped: bool, look: Look | None) -> tuple[HeadToHead, ...]:
    """When several arms win: the best one (largest primary lift) against each other winner, directly, with
    Bonferroni over those comparisons. "Both worked" does not say which one to roll out; this does, or says
    that the test cannot tell them apart. With one winner: the winner against each other valid arm."""
    winners = [d.treatment for d in decisions if d.verdict == "win"]
    if not winners or len(decisions) < 2:
        return ()
    lift = {m.treatment: m.rel_lift for m in metrics if m.metric == settings.primary}
    best = max(winners, key=lambda t: lift.get(t, -math.inf))
    # One winner beside arms that showed nothing: "roll out this one, not that one" reads as "this one is
    # better", which only a direct comparison says; so the winner is compared with each valid arm too.
    others = [t for t in winners if t != best] if len(winners) > 1 else \
        [d.treatment for d in decisions if d.treatment != best and d.verdict != "invalid"]
    if not others:
        return ()
    out = []
    for other in others:
        c = _compare(cells, other, best, settings.primary, settings, cuped, len(others), look)
        p = min(1.0, c.p_value * len(others))
        ci = c.interval(adjusted_level(c.p_value, p, settings.confidence))
        out.append(HeadToHead(better=best, other=other, metric=settings.primary, abs_diff=c.abs_diff,
                              ci_low=ci.low, ci_high=ci.high, rel_diff=c.rel_lift, p_adjusted=p,
                              significant=bool(p < 1 - settings.confidence)))
    return tuple(out)


def overall_decision(decisions: tuple[Decision, ...]) -> Decision:
    """One decision for the test: invalid if any arm is; "mixed" when arms disagree in sign (one wins,
    another loses: no single rollout follows); else win before loss before no effect."""
    verdicts = {d.verdict for d in decisions}
    if "invalid" not in verdicts and {"win", "loss"} <= verdicts:
        first = decisions[0]
        return Decision("", "mixed", first.metric, ("arms_disagree",))
    priority = {"invalid": 0, "win": 1, "loss": 2, "no_detectable_effect": 3}
    return min(decisions, key=lambda d: priority[d.verdict])


# Names that say "control" in themselves. Not "A": a test of A against B has no control until the config names
# one, and guessing it would be an assumption the documents never state.
CONTROL_NAMES = ("control", "контроль", "контрольная", "контрольная группа", "control group")


def pick_control(groups: list[str], configured: str | None) -> str | None:
    """The configured control value, or the group whose name says control; None when neither (the
    caller says which groups were found: the first group in the alphabet is not a control)."""
    if configured is not None:
        return configured
    return next((g for g in groups if str(g).lower() in CONTROL_NAMES), None)

