"""RFM: scores relative to the shop's own purchase cycle and named segments from an ordered rule table.

R is measured against the shop's own purchase cycle (`PurchaseCycle`: each returning customer's usual gap
between purchases, over customers): 5 = silent no longer than the median customer's usual gap, 4 = up to
the 75th percentile, 3 = up to the 90th, 2 = up to twice the 90th, 1 = longer (lapsed). A shop bought from
weekly and one bought from yearly thus call different silences "lapsed", as their customers do. F is 1 for
a single order and the quartiles of the number of orders among repeat customers above it (quintiles when
everyone bought twice or more); M is the quintile of total spend. Without any repeat purchase there is no
cycle, and R falls back to quintiles of recency (said in the documents). Rules are tried in order and the
last rule is a catch-all, so every customer lands in exactly one segment whatever rules a user configures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from campaign_report.analysis.config import RfmRule
from campaign_report.analysis.tables import Tabular

DEFAULT_RULES = (
    RfmRule("best", r=(4, 5), f=(4, 5), m=(4, 5)),
    RfmRule("loyal", r=(3, 5), f=(3, 5)),
    RfmRule("cant_lose", r=(1, 2), f=(4, 5), m=(4, 5)),
    RfmRule("at_risk", r=(1, 2), f=(3, 5)),
    RfmRule("new", r=(5, 5), f=(1, 1)),
    RfmRule("promising", r=(3, 5), f=(1, 2)),
    RfmRule("lost", r=(1, 2), f=(1, 2)),
)
CATCH_ALL = "other"


@dataclass(frozen=True)
class PurchaseCycle:
    """Returning customers' usual gap between purchase days: its quantiles over customers."""

    median_gap: float
    gap_75: float
    gap_90: float
    repeat_customers: int  # customers with two purchase days or more

    @property
    def lapse_days(self) -> float:
        """Silent longer than 90 % of returning customers usually wait between purchases: probably lapsed."""
        return self.gap_90

    def recency_score(self, recency: pd.Series) -> pd.Series:
        """R: 5 within the median gap ... 1 beyond twice the 90th percentile."""
        edges = [self.median_gap, self.gap_75, self.gap_90, 2 * self.gap_90]
        score = pd.Series(1, index=recency.index, dtype=int)
        for value, edge in zip((5, 4, 3, 2), edges, strict=True):
            score[(recency <= edge) & (score == 1)] = value
        return score


def cycle_from_gaps(gap_counts: dict[int, int], repeat_customers: int) -> PurchaseCycle | None:
    """Quantiles of the gap histogram (days -> count); None when nobody came back."""
    if not gap_counts:
        return None
    days = np.array(sorted(gap_counts), dtype=float)
    cumulative = np.cumsum([gap_counts[int(d)] for d in days]) / sum(gap_counts.values())

    def quantile(q: float) -> float:
        return float(days[np.searchsorted(cumulative, q)])

    return PurchaseCycle(median_gap=quantile(0.5), gap_75=quantile(0.75), gap_90=quantile(0.9),
                         repeat_customers=int(repeat_customers))


@dataclass(frozen=True)
class RfmSegment:
    name: str
    size: int
    share: float
    revenue_share: float
    recency: float
    frequency: float
    monetary: float


# The segments that count as gone or going: a customer who has not bought for a long time, whatever they spent.
RISK_SEGMENTS = ("at_risk", "cant_lose", "lost")


@dataclass(frozen=True)
class RfmRisk:
    """Customers RFM counts as gone or going (RISK_SEGMENTS), and how many of them the report's other lists of
    customers at risk hold: three counts of "at risk" (RFM, the model's target list, the value model's slipping
    away) read as contradicting each other until each says how it relates to the others."""

    customers: int
    share: float
    revenue_share: float
    on_target_list: int | None = None  # of them, on the propensity model's target list (None: no list)
    slipping: int | None = None  # of them, among the value model's valuable customers slipping away (None: no fit)


@dataclass(frozen=True)
class RfmResult(Tabular):
    PRIMARY: ClassVar[str] = "segments"

    segments: tuple[RfmSegment, ...]
    rules: tuple[RfmRule, ...]
    cycle: PurchaseCycle | None = None  # the shop's purchase cycle R is scored against (None: recency quintiles)
    one_time_share: float = math.nan  # customers with one order: how much of the base never came back
    one_time_customers: int = 0
    customers: int = 0
    risk: RfmRisk | None = None  # None when no configured segment is one of RISK_SEGMENTS


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by percentile rank; equal values get equal scores."""
    pct = (values if higher_is_better else -values).rank(method="average", pct=True)
    return np.ceil(pct * 5).clip(1, 5).astype(int)


def frequency_score(orders: pd.Series) -> pd.Series:
    """F: 1 for one order; quartiles of orders among repeat customers above it (quintiles if all repeat)."""
    repeat = orders > 1
    if not (~repeat).any():
        return quintile_score(orders)
    score = pd.Series(1, index=orders.index, dtype=int)
    if repeat.any():
        pct = orders[repeat].rank(method="average", pct=True)
        score[repeat] = (np.ceil(pct * 4).clip(1, 4) + 1).astype(int)
    return score


def rfm_scores(frame: pd.DataFrame, cycle: PurchaseCycle | None = None) -> pd.DataFrame:
    """R, F, M scores for a frame with recency_days, orders, monetary (R by the purchase cycle when given)."""
    recency = cycle.recency_score(frame["recency_days"]) if cycle is not None else \
        quintile_score(frame["recency_days"], higher_is_better=False)
    return pd.DataFrame({"r": recency, "f": frequency_score(frame["orders"]), "m": quintile_score(frame["monetary"])},
                        index=frame.index)


def assign_segments(scores: pd.DataFrame, rules: tuple[RfmRule, ...]) -> pd.Series:
    """First matching rule's name for each customer; CATCH_ALL where none matches."""
    out = pd.Series(CATCH_ALL, index=scores.index, dtype=object)
    unassigned = pd.Series(True, index=scores.index)
    for rule in rules:
        hit = unassigned.copy()
        for axis, (lo, hi) in (("r", rule.r), ("f", rule.f), ("m", rule.m)):
            hit &= scores[axis].between(lo, hi)
        out[hit] = rule.name
        unassigned &= ~hit
    return out


def analyze_rfm(frame: pd.DataFrame, rules: tuple[RfmRule, ...] = (), cycle: PurchaseCycle | None = None,
                ) -> tuple[RfmResult, pd.Series]:
    """Segment sizes, revenue shares and mean R/F/M; returns the result and the segment per customer id."""
    rules = rules or DEFAULT_RULES
    segment = assign_segments(rfm_scores(frame, cycle), rules)
    total = float(frame["monetary"].sum()) or math.nan
    order = [r.name for r in rules] + [CATCH_ALL]
    segments = []
    for name in order:
        part = frame[segment == name]
        if part.empty:
            continue
        segments.append(RfmSegment(name=name, size=len(part), share=len(part) / len(frame),
                                   revenue_share=float(part["monetary"].sum()) / total,
                                   recency=float(part["recency_days"].mean()),
                                   frequency=float(part["orders"].mean()),
                                   monetary=float(part["monetary"].mean())))
    labels = pd.Series(segment.to_numpy(), index=frame["id"].to_numpy(), name="rfm")
    risky = [x for x in segments if x.name in RISK_SEGMENTS]
    risk = RfmRisk(customers=sum(x.size for x in risky), share=sum(x.share for x in risky),
                   revenue_share=sum(x.revenue_share for x in risky)) if risky else None
    return RfmResult(segments=tuple(segments), rules=rules, cycle=cycle, risk=risk,
                     one_time_share=float((frame["orders"] <= 1).mean()),
                     one_time_customers=int((frame["orders"] <= 1).sum()), customers=len(frame)), labels


def risk_overlaps(risk: RfmRisk, labels: pd.Series, target_ids: pd.Series | None, slipping_ids: pd.Series | None,
                  ) -> RfmRisk:
    """How many of RFM's gone-or-going customers are on the target list and among the value model's slipping."""
    risky = {str(i) for i in labels.index[labels.isin(RISK_SEGMENTS).to_numpy()]}

    def among(ids: pd.Series | None) -> int | None:
        return None if ids is None else int(ids.astype(str).isin(risky).sum())

    return dataclasses.replace(risk, on_target_list=among(target_ids), slipping=among(slipping_ids))
