"""RFM: quintile scores and named segments from an ordered rule table (first match wins).

Scores are 1-5 by percentile rank, ties sharing a score: R from recency (recent = 5), F from the number
of orders, M from total spend. Rules are tried in order and the last rule is a catch-all, so every
customer lands in exactly one segment whatever rules a user configures.
"""

from __future__ import annotations

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
class RfmSegment:
    name: str
    size: int
    share: float
    revenue_share: float
    recency: float
    frequency: float
    monetary: float


@dataclass(frozen=True)
class RfmResult(Tabular):
    PRIMARY: ClassVar[str] = "segments"

    segments: tuple[RfmSegment, ...]
    rules: tuple[RfmRule, ...]


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by percentile rank; equal values get equal scores."""
    pct = (values if higher_is_better else -values).rank(method="average", pct=True)
    return np.ceil(pct * 5).clip(1, 5).astype(int)


def rfm_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """R, F, M scores for a frame with recency_days, orders, monetary."""
    return pd.DataFrame({"r": quintile_score(frame["recency_days"], higher_is_better=False),
                         "f": quintile_score(frame["orders"]), "m": quintile_score(frame["monetary"])},
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


def analyze_rfm(frame: pd.DataFrame, rules: tuple[RfmRule, ...] = ()) -> tuple[RfmResult, pd.Series]:
    """Segment sizes, revenue shares and mean R/F/M; returns the result and the segment per customer id."""
    rules = rules or DEFAULT_RULES
    segment = assign_segments(rfm_scores(frame), rules)
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
    return RfmResult(segments=tuple(segments), rules=rules), labels
