"""The target list's cut-off as a business decision: a capacity or a precision target.

`[propensity] cutoff` says who is on the list:
- "top 500": the 500 highest-scored customers (a call centre's capacity);
- "top 20%": the highest-scored fifth;
- "precision 0.9" (or "precision 90%"): as many customers as possible while 9 in 10 of them have the
  outcome, judged on out-of-fold scores of the training customers (the holdout is kept for the check);
- "probability 0.8": everyone scored at least 0.8 (what the older `threshold = 0.8` means).
Whatever the rule, the list is then judged once on the holdout: share listed, precision and recall.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

KINDS = ("top_n", "top_share", "precision", "probability")
_RULE = re.compile(r"^\s*(top|precision|probability)\s+(\d+(?:[.,]\d+)?)\s*(%?)\s*$", re.IGNORECASE)
MIN_LIST_SHARE = 0.01  # a precision target is met by a list of at least 1 % of customers


@dataclass(frozen=True)
class Cutoff:
    kind: str  # one of KINDS
    value: float  # customers (top_n), a share 0-1 (top_share), a precision 0-1, a probability 0-1
    rule: str  # as written in the config, normalised ("top 20%")


def parse_cutoff(text: str) -> Cutoff:
    """The rule from its text; ValueError with the accepted forms when it is not one of them."""
    match = _RULE.match(text)
    accepted = 'expected "top 500", "top 20%", "precision 0.9" or "probability 0.8"'
    if match is None:
        raise ValueError(f"cutoff {text!r} not understood: {accepted}")
    word, number, percent = match.group(1).lower(), float(match.group(2).replace(",", ".")), match.group(3)
    if word == "top" and not percent:
        if number < 1 or number != int(number):
            raise ValueError(f"cutoff {text!r}: top N needs a whole number of customers ≥ 1")
        return Cutoff("top_n", number, f"top {int(number)}")
    value = number / 100 if percent else number
    if not 0 < value <= 1 or (word == "precision" and value >= 1):
        raise ValueError(f"cutoff {text!r}: the share must be above 0 and at most 100 %"
                         + (" (below 100 % for a precision target)" if word == "precision" else ""))
    kind = {"top": "top_share", "precision": "precision", "probability": "probability"}[word]
    shown = f"{number:g}%" if percent else f"{number:g}"
    return Cutoff(kind, value, f"{word} {shown}")


def precision_threshold(y: np.ndarray, score: np.ndarray, target: float) -> tuple[float, bool]:
    """The lowest score at which the customers at or above it reach `target` precision (the longest list
    that does), and whether the target was reached; when not, the most precise list of at least 1 %."""
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], np.cumsum(y[order])
    n = np.arange(1, len(y) + 1)
    # Only a position where the score changes is a possible cut-off (ties are listed together).
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    precision = np.where(last_of_tie, hits / n, -1.0)
    big_enough = n >= max(1, math.ceil(MIN_LIST_SHARE * len(y)))
    reached = np.flatnonzero((precision >= target) & big_enough)
    if len(reached):
        return float(ranked[reached[-1]]), True
    best = int(np.argmax(np.where(big_enough, precision, -1.0)))
    return float(ranked[best]), False


def inside_cutoff(probability: np.ndarray, cutoff: Cutoff, precision_score_threshold: float | None,
                  ) -> tuple[np.ndarray, float]:
    """Who of the scored population is inside the cut-off, and the lowest probability inside it."""
    n = len(probability)
    if cutoff.kind in ("top_n", "top_share"):
        size = min(n, int(cutoff.value) if cutoff.kind == "top_n" else math.ceil(cutoff.value * n))
        order = np.argsort(-probability, kind="stable")
        inside = np.zeros(n, dtype=bool)
        inside[order[:size]] = True
        return inside, float(probability[order[size - 1]]) if size else math.inf
    threshold = precision_score_threshold if cutoff.kind == "precision" else cutoff.value
    assert threshold is not None
    return probability >= threshold, threshold
