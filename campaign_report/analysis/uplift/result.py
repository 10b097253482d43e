"""The uplift section's typed, frozen results (raw numbers and codes; renderers word them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from campaign_report.analysis.tables import Tabular


@dataclass(frozen=True)
class UpliftCandidate:
    """One learner, judged on customers it was not fitted on (cross-fitted predictions)."""

    model: str  # "t_linear" | "t_spline" | "t_boosting" | "x_learner" | "transformed_outcome" | "ensemble"
    qini: float  # area between its uplift-gain curve and random targeting, per customer
    qini_ci: tuple[float, float]  # bootstrap interval of that area
    top30: float  # the measured uplift (treatment − control) among its top 30 %
    fit_seconds: float


@dataclass(frozen=True)
class CurvePoint:
    """The uplift-gain curve at one contact share: incremental outcome per customer of the base."""

    share: float  # share of customers contacted, highest predicted uplift first
    gain: float  # (mean treated − mean control) in that top share × the share
    low: float  # bootstrap band of `gain`
    high: float
    random: float  # the same share contacted at random: share × the average effect
    propensity: float  # the same share chosen by propensity (see Comparison.basis)


@dataclass(frozen=True)
class UpliftDecile:
    decile: int  # 1 = highest predicted uplift
    n: int
    n_treatment: int
    n_control: int
    predicted: float  # mean predicted uplift of the decile
    uplift: float  # measured: mean treated − mean control within the decile
    ci_low: float  # normal-approximation interval of `uplift` at the experiment's confidence
    ci_high: float


@dataclass(frozen=True)
class UpliftDecision:
    """Contact the top `contact_share` of the customers in scope: the share that maximises expected profit."""

    contact_share: float  # 0 = no one, 1 = everyone
    contacts: int
    population: int  # customers in scope (the list)
    incremental: float  # expected incremental outcome (conversions or revenue) over the contacted
    incremental_money: float  # in money: revenue gained (conversions × value per conversion)
    # incremental_money × margin − contacts × cost_per_contact. Without a stated margin the margin is 1: this is
    # revenue net of contact costs, and the documents call it so (margin_stated False), never profit.
    profit: float
    everyone_incremental: float  # the same for contacting everyone in scope
    everyone_money: float
    everyone_profit: float
    contacts_saved: int  # against contacting everyone
    cost_per_contact: float
    margin: float
    value_per_conversion: float | None  # money per incremental conversion (conversion outcome only)
    margin_stated: bool  # the config gave a margin ([uplift] or [report] margin)
    # "top_share" | "everyone" | "no_one" | "unproven": neither everyone nor no one is beyond chance (the
    # interval of contacting everyone's profit holds zero), so the test does not say whether contacting pays.
    rule: str
    best_share: float  # the most profitable top share on the curve, before the check below
    targeting_gain: float  # its profit over the better of everyone and no one
    targeting_gain_ci: tuple[float, float]  # bootstrap interval: a top share is chosen only if it excludes 0
    # The chosen top share's profit measured where it was not chosen (arm.honest_profit): `profit` is read off the
    # curve the share was picked on, and so flatters it. NaN unless a top share was chosen.
    honest_profit: float = math.nan
    honest_profit_ci: tuple[float, float] = (math.nan, math.nan)
    everyone_profit_ci: tuple[float, float] = (math.nan, math.nan)  # bootstrap interval of everyone_profit
    # Where the everyone figures come from: "curve", the uplift curve's end (the plain difference in means), or
    # "experiment", the A/B readout's effect on the same outcome (variance-reduced, with its interval), the figure
    # the report quotes for the arm; see arm.anchor_everyone.
    everyone_basis: str = "curve"


@dataclass(frozen=True)
class Comparison:
    """The same contact share chosen by propensity instead of by uplift."""

    basis: str  # "propensity_model" (the report's model) | "control_buyers" (P(buy) among the control group)
    share: float  # the contact share compared
    uplift_captured: float  # share of everyone's incremental effect the uplift list reaches
    propensity_captured: float  # ... the propensity list reaches
    uplift_incremental: float  # incremental outcome per customer of the base at that share
    propensity_incremental: float


@dataclass(frozen=True)
class UpliftArm(Tabular):
    PRIMARY: ClassVar[str] = "deciles"

    treatment: str
    outcome: str  # "conversion" | "revenue" | "orders"
    model: str  # the candidate chosen
    why: str  # "largest_qini" | "largest_qini_not_distinguishable" | "only_candidate"
    runner_up: str
    qini_difference_ci: tuple[float, float]  # chosen − runner-up, paired bootstrap
    candidates: tuple[UpliftCandidate, ...]
    qini: float
    qini_ci: tuple[float, float]
    heterogeneous: bool  # the Qini interval excludes zero: some customers respond more than others
    average_effect: float  # mean treated − mean control over the arm's customers
    n_treatment: int
    n_control: int
    features: tuple[str, ...]
    curve: tuple[CurvePoint, ...]
    deciles: tuple[UpliftDecile, ...]
    decision: UpliftDecision
    comparison: Comparison
    confidence: float
    learned_from: int = 0  # the arm's and control's customers when the models learned from a sample of them (0: all)


@dataclass(frozen=True)
class UpliftListSummary:
    path: str
    size: int
    contact: int  # rows whose reason says contact
    score_filter: str | None
    score_filter_name: str | None


@dataclass(frozen=True)
class UpliftResult(UpliftArm):
    """The lead arm's result at the top level (DESIGN.md's keys), every arm in `arms`."""

    arms: tuple[UpliftArm, ...] = ()
    list: UpliftListSummary | None = None
    fit_seconds: float = 0.0
