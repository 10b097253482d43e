"""The campaign history: one entry per campaign read into an output folder, and what they teach together.

An entry is what a run's own readout said about its campaign (so the history's lifts equal each run's), kept
in the output folder's campaign store (pipeline.campaigns) and in every later run's results.json.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from scipy import stats

from campaign_report.analysis.tables import Tabular


@dataclass(frozen=True)
class ArmOutcome:
    """One treatment arm's primary metric against control, as the campaign's readout printed it."""

    treatment: str
    n_treatment: int
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    abs_diff: float
    ci_low: float
    ci_high: float
    p_adjusted: float
    ci_level: float
    verdict: str  # the arm's decision: win | loss | no_detectable_effect | invalid
    label: str = ""  # the arm's name in that campaign's documents ([report.names]); "" = the raw value
    # Extra revenue over the arm's customers (ARPU difference × its customers), when ARPU was measured.
    extra_revenue: float = math.nan
    extra_revenue_low: float = math.nan
    extra_revenue_high: float = math.nan


@dataclass(frozen=True)
class SegmentLift:
    """One segment's lift of the primary metric in the lead arm, with the standard error that pools it."""

    dimension: str  # cluster | rfm | a customer column
    segment: str
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    ci_level: float
    log_ratio_se: float  # of log(treatment / control)
    n: int  # customers in control and the arm


@dataclass(frozen=True)
class CampaignEntry:
    campaign_id: str  # name|start|end: a re-run of the same campaign replaces its entry
    name: str
    start: str | None
    end: str | None
    primary: str
    control: str
    n_control: int
    lead: str  # the arm the campaign's verdict is about (the decision's, else the largest primary lift)
    verdict: str  # the campaign's overall decision
    interim: bool  # read before its window ended
    inference: str  # sequential | fixed_horizon
    currency: str
    arms: tuple[ArmOutcome, ...]
    segments: tuple[SegmentLift, ...] = ()
    contacts: int = 0  # customers in the treatment arms
    contact_cost: float = math.nan  # contacts × [uplift] cost_per_contact, when a cost was given
    margin: float = math.nan  # share of revenue that is profit, when stated
    uplift_qini: float = math.nan  # the uplift model's Qini (per customer), when it ran
    uplift_share: float = math.nan  # the share of customers it said to contact next time
    read: str = ""  # when the run that wrote the entry was made (ISO)
    control_label: str = ""  # the control group's name in that campaign's documents

    @property
    def lead_arm(self) -> ArmOutcome:
        return next(a for a in self.arms if a.treatment == self.lead)

    @property
    def extra_revenue(self) -> float:
        """Every arm's extra revenue (NaN without ARPU)."""
        return math.fsum(a.extra_revenue for a in self.arms)

    @property
    def extra_profit(self) -> float:
        """Extra revenue × margin − contact cost; NaN without a stated margin (spend is not profit)."""
        if not math.isfinite(self.margin):
            return math.nan
        return self.extra_revenue * self.margin - (self.contact_cost if math.isfinite(self.contact_cost) else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CampaignEntry:
        """An entry as stored (the store's JSON, or results.json's history); unknown keys are ignored, so a
        store written by a later version still reads."""
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        values["arms"] = tuple(_known(ArmOutcome, a) for a in raw.get("arms", ()))
        values["segments"] = tuple(_known(SegmentLift, s) for s in raw.get("segments", ()))
        cleaned: dict[str, Any] = {k: (math.nan if v is None and k in _FLOATS else v) for k, v in values.items()}
        return cls(**cleaned)


def _known(kind: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: (math.nan if v is None else v) for k, v in raw.items() if k in names})


_FLOATS = {f.name for f in dataclasses.fields(CampaignEntry) if f.type == "float"}


@dataclass(frozen=True)
class PooledSegment:
    """A segment's lift across campaigns: random-effects meta-analysis of its log ratios (Paule–Mandel
    between-campaign variance, Hartung–Knapp interval with t on k − 1 degrees of freedom, never narrower than
    the plain random-effects one)."""

    dimension: str
    segment: str
    campaigns: int  # campaigns in which the segment was measured
    responded: int  # of them, campaigns whose interval for the segment lay above zero
    rel_lift: float  # pooled: exp(mean log ratio) − 1
    ci_low: float
    ci_high: float
    confidence: float
    tau: float  # between-campaign standard deviation of the log ratio
    i2: float  # share of the spread beyond chance (I²)
    q_p_value: float  # Cochran's Q test that the campaigns agree
    lowest: float = math.nan  # the smallest and the largest of the campaigns' own lifts of the segment
    highest: float = math.nan

    @property
    def consistent_gain(self) -> bool:
        """Responded in every campaign (each campaign's own interval above zero): under no effect, k independent
        intervals all above zero happen with chance (α/2)^k. The pooled interval says how large the average
        response is, and with few campaigns that differ in strength it may still cross zero."""
        return self.responded == self.campaigns >= 2

    @property
    def strength_varies(self) -> bool:
        """Most of the spread between campaigns is beyond chance (I² ≥ 50 %)."""
        return self.i2 >= 0.5


@dataclass(frozen=True)
class HistoryResult(Tabular):
    PRIMARY: ClassVar[str] = "campaigns"

    campaigns: tuple[CampaignEntry, ...]  # oldest first, this one included
    current: str  # this campaign's id
    pooled: tuple[PooledSegment, ...] = ()
    confidence: float = 0.95

    @property
    def this(self) -> CampaignEntry:
        return next(c for c in self.campaigns if c.campaign_id == self.current)

    @property
    def previous(self) -> CampaignEntry | None:
        """The campaign read before this one (by window, then by read time)."""
        index = [c.campaign_id for c in self.campaigns].index(self.current)
        return self.campaigns[index - 1] if index > 0 else None

    @property
    def rank(self) -> int:
        """This campaign's place by the lead arm's relative lift, 1 = largest."""
        lifts = sorted((c.lead_arm.rel_lift for c in self.campaigns), reverse=True)
        return lifts.index(self.this.lead_arm.rel_lift) + 1

    @property
    def leader_per_customer(self) -> CampaignEntry:
        """The campaign whose lead arm added the most per customer in the metric's own unit (roubles of ARPU):
        with different bases, not always the one with the largest % lift."""
        return max(self.campaigns, key=lambda c: c.lead_arm.abs_diff)

    @property
    def comparable(self) -> bool:
        """Every campaign measured the same primary metric: their lifts can share one chart and a rank."""
        return len({c.primary for c in self.campaigns}) == 1

    @property
    def one_currency(self) -> bool:
        """Every campaign's money is in the same currency: it can be added up."""
        return len({c.currency for c in self.campaigns}) == 1

    def cumulative_revenue(self) -> tuple[float, ...]:
        """Extra revenue added up campaign by campaign (NaN from the first campaign without ARPU on, and
        throughout when the campaigns' currencies differ)."""
        return self._cumulative([c.extra_revenue for c in self.campaigns])

    def cumulative_profit(self) -> tuple[float, ...]:
        return self._cumulative([c.extra_profit for c in self.campaigns])

    def cumulative_interval(self, profit: bool) -> tuple[float, float]:
        """The interval of the total (extra revenue, or profit = revenue × margin − cost) at `confidence`: each
        arm's standard error read off its own interval (normal approximation; a confidence sequence's wider
        interval makes it conservative), the campaigns independent."""
        if not self.one_currency:
            return math.nan, math.nan
        total, variance = 0.0, 0.0
        for c in self.campaigns:
            scale = c.margin if profit else 1.0
            for a in c.arms:
                se = (a.extra_revenue_high - a.extra_revenue_low) / 2 / stats.norm.ppf(1 - (1 - a.ci_level) / 2)
                total += a.extra_revenue * scale
                variance += (se * scale) ** 2
            if profit and math.isfinite(c.contact_cost):
                total -= c.contact_cost
        half = stats.norm.ppf(1 - (1 - self.confidence) / 2) * math.sqrt(variance)
        return total - half, total + half

    @property
    def rank_overlaps(self) -> bool:
        """This campaign's interval overlaps another's: the rank is the point estimates' order, not a finding."""
        this = self.this.lead_arm
        return any(c.lead_arm.rel_ci_low <= this.rel_ci_high and this.rel_ci_low <= c.lead_arm.rel_ci_high
                   for c in self.campaigns if c.campaign_id != self.current)

    def _cumulative(self, amounts: list[float]) -> tuple[float, ...]:
        if not self.one_currency:
            return tuple(math.nan for _ in amounts)
        total, out = 0.0, []
        for amount in amounts:
            total += amount
            out.append(total)
        return tuple(out)
