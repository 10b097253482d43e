"""Campaign readout: A/B metrics for any number of groups, SRM, CUPED, power, verdicts, segments.

Verdict rules (per treatment, on the primary metric, after the multiple-testing correction):
- invalid: the sample-ratio check fails, a group is below the minimum size, conversion is ≥ 99 % in
  any group (a control drawn from buyers) or zero everywhere, or the primary metric is undefined;
- win / loss: the adjusted p-value is below 1 − confidence, by the sign of the effect;
- no_detectable_effect: otherwise, reported with the MDE ("the test could detect ±X").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from campaign_report.analysis.config import ExperimentConfig
from campaign_report.analysis.experiment.stats import Comparison, GroupMoments, adjust_pvalues, compare, srm_test
from campaign_report.analysis.experiment.sums import OUTCOMES, CellSums, ExperimentSums
from campaign_report.analysis.tables import Tabular

METRIC_COLUMNS = {
    # metric: (numerator, denominator, pre-period numerator, pre-period denominator)
    "conversion": ("converted", None, "pre_converted", None),
    "average_check": ("revenue", "orders", "pre_revenue", "pre_orders"),
    "arpu": ("revenue", None, "pre_revenue", None),
    "orders_per_customer": ("orders", None, "pre_orders", None),
}
SATURATED_CONVERSION = 0.99
MIN_SEGMENT_GROUP = 50


@dataclass(frozen=True)
class GroupSize:
    name: str
    n: int
    expected_share: float
    actual_share: float


@dataclass(frozen=True)
class SrmCheck:
    chi2: float
    p_value: float
    ok: bool


@dataclass(frozen=True)
class MetricResult:
    metric: str
    control: str
    treatment: str
    n_control: int
    n_treatment: int
    control_value: float
    treatment_value: float
    abs_diff: float
    rel_lift: float
    ci_low: float
    ci_high: float
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    p_adjusted: float
    significant: bool
    method: str
    cuped: bool
    variance_reduction: float | None
    mde: float
    mde_abs: float
    power: float


@dataclass(frozen=True)
class Decision:
    treatment: str
    verdict: str  # "win" | "loss" | "no_detectable_effect" | "invalid"
    metric: str
    reasons: tuple[str, ...]  # codes, translated by the locale files


@dataclass(frozen=True)
class SegmentEffect:
    dimension: str
    segment: str
    treatment: str
    metric: str
    n_control: int
    n_treatment: int
    control_value: float
    treatment_value: float
    abs_diff: float
    rel_lift: float
    ci_low: float
    ci_high: float
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class ObservationalEffect:
    name: str
    outcome: str
    promo_days: int
    other_days: int
    promo_daily_mean: float
    other_daily_mean: float
    rel_effect: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str


@dataclass(frozen=True)
class ExperimentResult(Tabular):
    PRIMARY: ClassVar[str] = "metrics"

    start: str | None  # the campaign window; None when the outcomes came as columns of the experiment file
    end: str | None
    control: str
    groups: tuple[GroupSize, ...]
    excluded_customers: int
    srm: SrmCheck
    metrics: tuple[MetricResult, ...]
    decisions: tuple[Decision, ...]
    decision: Decision
    by_segment: tuple[SegmentEffect, ...]
    observational: tuple[ObservationalEffect, ...]
    primary: str
    confidence: float
    correction: str
    cuped: bool
    pre_period_days: int
    covariate: str = ""  # CUPED's covariate: "" (none), "pre_period" (same metric before), or the column named


def _moments(cell: CellSums, metric: str) -> GroupMoments:
    """The metric's (y, d, u, w) block of the group's sums; a missing column is the constant 1."""
    index = [0 if c is None else 1 + OUTCOMES.index(c) for c in METRIC_COLUMNS[metric]]
    sums, cross = cell.augmented()
    if cell.n < 2:
        y, d, u, w = (float(v) for v in sums[index] / max(cell.n, 1))
        return GroupMoments(n=cell.n, mean=(y, d, u, w), cov=((0.0,) * 4,) * 4)
    return GroupMoments.from_sums(cell.n, sums[index], cross[np.ix_(index, index)])


def _compare(cells: dict[str, CellSums], control: str, treatment: str, metric: str, settings: ExperimentConfig,
             cuped: bool) -> Comparison:
    return compare(_moments(cells[control], metric), _moments(cells[treatment], metric),
                   confidence=settings.confidence, cuped=cuped, use_t=metric != "conversion",
                   power=settings.power, min_effect=settings.min_effect)


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
    if min(sizes.values()) < settings.min_group_size:
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


def _segment_effects(sums: ExperimentSums, control: str, treatments: list[str], settings: ExperimentConfig,
                     ) -> tuple[SegmentEffect, ...]:
    rows: list[dict] = []
    metrics = [m for m in dict.fromkeys([settings.primary, "conversion"]) if m in settings.metrics]
    for (dimension, segment), part in sorted(sums.segments.items()):
        for treatment in treatments:
            n_c = part[control].n if control in part else 0
            n_t = part[treatment].n if treatment in part else 0
            if min(n_c, n_t) < MIN_SEGMENT_GROUP:
                continue
            for metric in metrics:
                c = _compare(part, control, treatment, metric, settings, cuped=False)
                if not math.isfinite(c.p_value):
                    continue
                rows.append(dict(dimension=dimension, segment=str(segment), treatment=treatment,
                                 metric=metric, n_control=n_c, n_treatment=n_t,
                                 control_value=c.control_value, treatment_value=c.treatment_value,
                                 abs_diff=c.abs_diff, rel_lift=c.rel_lift, ci_low=c.ci_low,
                                 ci_high=c.ci_high, rel_ci_low=c.rel_ci_low, rel_ci_high=c.rel_ci_high,
                                 p_value=c.p_value))
    adjusted = adjust_pvalues([r["p_value"] for r in rows], "bh")
    alpha = 1 - settings.confidence
    return tuple(SegmentEffect(**r, p_adjusted=p, significant=p < alpha) for r, p in zip(rows, adjusted,
                                                                                         strict=True))


def analyze_experiment(sums: ExperimentSums, settings: ExperimentConfig, control: str, excluded: int,
                       observational: tuple[ObservationalEffect, ...] = (),
                       pre_period_days: int = 0, window_has_data: bool = True,
                       covariate: str = "") -> ExperimentResult:
    """Readout of every treatment group against control on every configured metric.

    `sums` holds the engine's aggregates per group (and per group × segment for the segment cuts).
    """
    cells = sums.groups
    names = sorted(cells, key=lambda g: (g != control, str(g)))
    treatments = [g for g in names if g != control]
    sizes = {g: cells[g].n for g in names}
    shares = list(settings.expected_split) or [1.0] * len(names)
    if len(shares) != len(names):
        shares = [1.0] * len(names)
    chi2, srm_p = srm_test([sizes[g] for g in names], shares)
    srm = SrmCheck(chi2=chi2, p_value=srm_p, ok=srm_p >= settings.srm_alpha)
    total = sum(sizes.values())
    groups = tuple(GroupSize(g, sizes[g], s / sum(shares), sizes[g] / total) for g, s in zip(names, shares,
                                                                                           strict=True))
    pre = OUTCOMES.index("pre_revenue")
    has_pre = any(c.cross[pre][pre] > 0 for c in cells.values())
    cuped = settings.cuped and has_pre
    raw: list[tuple[str, str, Comparison]] = []
    for treatment in treatments:
        for metric in settings.metrics:
            raw.append((metric, treatment, _compare(cells, control, treatment, metric, settings, cuped)))
    adjusted = adjust_pvalues([c.p_value for _, _, c in raw], settings.correction)
    alpha = 1 - settings.confidence
    metrics = [
        MetricResult(metric=m, control=control, treatment=t, n_control=sizes[control], n_treatment=sizes[t],
                     control_value=c.control_value, treatment_value=c.treatment_value, abs_diff=c.abs_diff,
                     rel_lift=c.rel_lift, ci_low=c.ci_low, ci_high=c.ci_high, rel_ci_low=c.rel_ci_low,
                     rel_ci_high=c.rel_ci_high, p_value=c.p_value, p_adjusted=p,
                     significant=bool(p < alpha), method=_method(m, cuped), cuped=cuped,
                     variance_reduction=c.variance_reduction, mde=c.mde, mde_abs=c.mde_abs, power=c.power)
        for (m, t, c), p in zip(raw, adjusted, strict=True)]
    conversion = {g: cells[g].mean("converted") for g in names}
    decisions = tuple(_decide(t, metrics, srm, sizes, conversion, settings, window_has_data) for t in treatments)
    priority = {"invalid": 0, "win": 1, "loss": 2, "no_detectable_effect": 3}
    decision = min(decisions, key=lambda d: priority[d.verdict])
    by_segment = _segment_effects(sums, control, treatments, settings)
    return ExperimentResult(
        start=str(settings.start) if settings.start else None, end=str(settings.end) if settings.end else None,
        control=control, groups=groups,
        excluded_customers=excluded, srm=srm, metrics=tuple(metrics), decisions=decisions,
        decision=decision, by_segment=by_segment, observational=observational, primary=settings.primary,
        confidence=settings.confidence, correction=settings.correction, cuped=cuped,
        pre_period_days=pre_period_days, covariate=covariate if cuped else "")


def pick_control(groups: list[str], configured: str | None) -> str:
    """The configured control value, or a group whose name says control; errors are the caller's."""
    if configured is not None:
        return configured
    for g in groups:
        if str(g).lower() in ("control", "контроль", "контрольная", "no e-mail", "a"):
            return g
    return sorted(groups)[0]

