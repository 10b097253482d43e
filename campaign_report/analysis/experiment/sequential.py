"""Inference valid at every look: the asymptotic confidence sequence (Waudby-Smith et al. 2023).

Teams read a running test every day; a fixed-horizon interval read daily declares a result in far more than
α of A/A tests (tests/test_sequential.py: 33 % over 30 daily looks at α = 5 %; the sequence: 2.5 %). The
confidence sequence holds at every sample size at once: whatever the number of looks, the chance that it ever
excludes the true effect is at most α. Chosen over group-sequential boundaries because looks are not planned
(`watch` reads whenever the data change) and because it needs nothing but the estimate and its standard
error, which every metric here has, so the readout's Welch/delta-method machinery, Fieller's relative interval
and Holm's correction carry over by replacing one quantile (as GrowthBook's sequential engine does).

Eq. 9 of the paper, for an estimate with standard error se after n observations:

    half-width = se · sqrt( 2 (n ρ² + 1) / (n ρ²) · ln( sqrt(n ρ² + 1) / α ) )

with ρ tuned so that the sequence is tightest at n* observations (eq. 161, two-sided):
ρ² = (−2 ln α + ln(−2 ln α + 1)) / n*. Here n* is the test at its planned end, so the price in power is paid
where it matters least. A campaign's customers are all assigned at its start and their purchases accumulate
over the window: what grows from look to look is the information, not the number of customers, so n/n* is
read as the share of the window elapsed (the variance of cumulative purchases grows about linearly in time).
ρ is fixed from the configured α; at any other level α' (Holm's adjusted levels) the same ρ is used, so the
always-valid p-value below and the sequence are dual: p < α' exactly when the sequence at α' excludes zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sequential:
    """A confidence sequence tuned for `alpha`, tightest at the planned end of the test."""

    alpha: float

    @property
    def tuning(self) -> float:
        """n*·ρ² of eq. 161: the sequence is tightest where n/n* = 1, the test's planned end."""
        log_alpha = math.log(self.alpha)
        return -2 * log_alpha + math.log(-2 * log_alpha + 1)

    def quantile(self, alpha: float, information: float = 1.0) -> float:
        """The multiple of the standard error the sequence's half-width is, at level 1 − alpha, after the
        given share of the planned information (1 = the planned end)."""
        nr2 = max(information, 1e-6) * self.tuning
        return math.sqrt(2 * (nr2 + 1) / nr2 * math.log(math.sqrt(nr2 + 1) / alpha))

    def p_value(self, z: float, information: float = 1.0) -> float:
        """The always-valid p-value of |estimate / se| = z: the smallest α whose sequence excludes 0."""
        nr2 = max(information, 1e-6) * self.tuning
        return min(1.0, math.sqrt(nr2 + 1) * math.exp(-z * z * nr2 / (2 * (nr2 + 1))))
