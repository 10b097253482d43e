"""What a campaign readout found: the typed, frozen records `readout.analyze_experiment` returns and the
documents read (groups, metrics, verdicts, segment effects, the look, the next test's plan)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from campaign_report.analysis.tables import Tabular


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
    cuped: bool  # θ ≠ 0: the estimate was adjusted by the covariate
    variance_reduction: float | None
    mde: float
    mde_abs: float
    power: float
    ci_level: float  # the intervals' confidence level, matched to the adjusted p-value
    family_size: int  # tests in this metric's correction family; MDE and power are at α / family_size

    @property
    def likely_overstated(self) -> bool:
        """Significant, yet smaller than the effect the test detects reliably (its MDE): an underpowered test
        that clears the bar exaggerates the effect (Gelman & Carlin's type M error)."""
        return self.significant and math.isfinite(self.mde) and abs(self.rel_lift) < self.mde


@dataclass(frozen=True)
class Decision:
    treatment: str  # "" for an overall "mixed" decision, which belongs to no single arm
    verdict: str  # "win" | "loss" | "no_detectable_effect" | "invalid"; overall also "mixed"
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
    ci_level: float
    std_error: float = math.nan  # of abs_diff: what tests the segments of one cut against each other
    # of log(treatment / control) by the delta method: what pools a segment's lift across campaigns (history)
    log_ratio_se: float = math.nan


@dataclass(frozen=True)
class HeadToHead:
    """The best winning arm compared directly with another arm on the primary metric: which one to roll out,
    or whether "roll out A, not B" may be read as "A beats B". A post-hoc family of its own (the best winner
    against each other winner, or a lone winner against each other valid arm; Bonferroni), with the
    readout's inference."""

    better: str  # the arm with the larger lift over control
    other: str
    metric: str
    abs_diff: float  # better − other
    ci_low: float
    ci_high: float
    rel_diff: float  # better / other − 1
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class TestPlan:
    """The next test of one arm, planned from this one's variance (see experiment.plan)."""

    treatment: str
    metric: str
    effect: float  # the relative effect to detect
    confidence: float
    power: float
    inference: str  # as this test's: "sequential" | "fixed_horizon"
    mde_now: float  # what this test, run to its end, can detect (relative)
    per_arm_now: int  # customers in the smaller of control and this arm
    per_arm: int  # customers per arm needed over the same window
    window_days: int | None  # this test's window (None: outcomes given without one)
    days: float | None  # the window needed with this test's customers per arm
    base: int = 0  # the customers there are (the customer table, else this test's): at most base/arms per arm
    mde_whole_base: float = math.nan  # what a test of the whole base, split like this one, detects (same window)
    arms: int = 2  # groups the base is split into (the control and every treatment)

    @property
    def feasible(self) -> bool:
        """The needed customers per arm exist."""
        return self.base <= 0 or self.per_arm <= self.base_per_arm

    @property
    def base_per_arm(self) -> int:
        return self.base // self.arms if self.base > 0 else 0

    @property
    def mde_whole_base_longer(self) -> float:
        """The whole base over four times this window: the MDE shrinks as 1/√(days) (module docstring)."""
        return self.mde_whole_base / math.sqrt(4)


@dataclass(frozen=True)
class Look:
    """Where in the campaign window this readout stands."""

    day: int  # the data reach this day of the window (1 = its first day)
    days: int  # the window's length

    @property
    def interim(self) -> bool:
        return self.day < self.days

    @property
    def information(self) -> float:
        """The share of the planned information: cumulative outcomes grow about linearly with the window."""
        return min(max(self.day / self.days, 1 / self.days), 1.0)


@dataclass(frozen=True)
class Heterogeneity:
    """Do the segments of one cut respond differently? Cochran's Q over their effects (exploratory)."""

    dimension: str
    treatment: str
    metric: str
    q: float
    df: int
    p_value: float
    differ: bool  # p below 1 − confidence: the segments' effects differ beyond chance


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
    # The same model with other days as "promo days": how often a day without a promo looks as strong.
    placebo_effects: tuple[float, ...] = ()
    placebo_days: tuple[str, ...] = ()  # the day of the month, or the shift in days ("+3"), of each placebo
    placebo_as_large: int = 0  # placebo days with |effect| ≥ |this effect|
    placebo_p: float = math.nan  # (1 + placebo_as_large) / (1 + placebo days)


@dataclass(frozen=True)
class SegmentHypothesis:
    """What the next test should check: the campaign works more strongly in one segment than on average. Found
    exploratorily here (its cut's segments differ beyond chance, and the segment's corrected interval lies above the
    average effect), so it is a hypothesis until a test of that segment alone confirms it. That test is sized for
    the interval's lower end, not the estimate (the segment that looks strongest tends to be overestimated), to
    tell it from the average effect."""

    dimension: str
    segment: str
    treatment: str
    metric: str
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    overall_lift: float  # the arm's effect on the metric over everyone
    expected: float  # the relative effect the next test is sized for (rel_ci_low)
    per_arm_now: int  # the segment's smaller group in this test
    per_arm: int  # customers per group for a test of the segment to tell `expected` from `overall_lift`
    power: float


@dataclass(frozen=True)
class ExperimentResult(Tabular):
    PRIMARY: ClassVar[str] = "metrics"

    start: str | None  # the campaign window; None when the outcomes came as columns of the experiment file
    end: str | None
    control: str
    groups: tuple[GroupSize, ...]  # the groups compared
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
    family: str = "all"  # the correction family: "all" metrics × arms, or "primary" metric × arms
    family_size: int = 1  # tests in the primary metric's family
    not_compared: tuple[GroupSize, ...] = ()  # groups in the data but not in expected_split
    heterogeneity: tuple[Heterogeneity, ...] = ()  # per cut: do its segments respond differently?
    inference: str = "fixed_horizon"  # "sequential" (valid at every look) | "fixed_horizon" (valid read once)
    # Why: "configured" ([experiment] sequential = true/false), "interim" (read before the window ends),
    # "earlier_looks" (this campaign was read before its end, in this output folder), "read_once" (first read
    # after the end), "no_window" (outcomes came as columns: one export, read once).
    inference_reason: str = "configured"
    earlier_looks: int = 0  # reads of this campaign before its window ended, from the output folder's ledger
    look: Look | None = None  # None: the outcomes came as columns, with no window to stand in
    revenue_cap: float | None = None  # revenue outcomes were capped at this amount ([experiment] cap_revenue)
    equal_split_assumed: bool = False  # no expected_split: the sample-ratio check assumed equal shares
    cap_percentile: float | None = None  # the percentile revenue_cap is (of customers who bought)
    plans: tuple[TestPlan, ...] = ()  # the next test per arm, to detect [experiment] min_effect
    hypothesis: SegmentHypothesis | None = None  # a segment where the decision's arm works more strongly
    head_to_head: tuple[HeadToHead, ...] = ()  # the best winner against the other winners, or a lone winner
    # against every other valid arm

    def decided_on(self, treatment: str) -> MetricResult:
        """The arm's result on the metric its decision was made on."""
        decision = next(d for d in self.decisions if d.treatment == treatment)
        return next(m for m in self.metrics if m.treatment == treatment and m.metric == decision.metric)
