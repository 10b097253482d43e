"""Two-sample comparisons from sufficient statistics.

Every metric is treated as a ratio of means, ȳ/d̄ (d = 1 for plain means such as conversion or ARPU,
d = orders for the average check), with an optional covariate ratio ū/w̄ from the pre-period for CUPED.
A group is summarised by n, the means of (y, d, u, w) and their 4×4 covariance: enough for the
delta-method variance of both ratios and their covariance, so the statistics can come from an
engine's aggregates instead of raw rows (as in GrowthBook's gbstats and tea-tasting).

Distributions, multiple-testing corrections and the chi-square test come from scipy/statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests


def _four(values: np.ndarray) -> tuple[float, float, float, float]:
    y, d, u, w = (float(v) for v in values)
    return y, d, u, w


@dataclass(frozen=True)
class GroupMoments:
    """n, means and sample covariance (ddof=1) of (y, d, u, w) for one group."""

    n: int
    mean: tuple[float, float, float, float]
    cov: tuple[tuple[float, ...], ...]

    @classmethod
    def from_arrays(cls, y: np.ndarray, d: np.ndarray | None = None, u: np.ndarray | None = None,
                    w: np.ndarray | None = None) -> GroupMoments:
        y = np.asarray(y, dtype=float)
        ones = np.ones_like(y)
        cols = np.vstack([y, ones if d is None else d, ones if u is None else u, ones if w is None else w])
        cov = np.cov(cols, ddof=1) if len(y) > 1 else np.zeros((4, 4))
        return cls(n=len(y), mean=_four(cols.mean(axis=1)), cov=tuple(tuple(float(v) for v in row) for row in cov))

    @classmethod
    def from_sums(cls, n: int, sums: np.ndarray, cross: np.ndarray) -> GroupMoments:
        """From n, Σx (4,) and Σxxᵀ (4×4): the form an SQL engine returns."""
        mean = sums / n
        cov = (cross - n * np.outer(mean, mean)) / (n - 1)
        return cls(n=n, mean=_four(mean), cov=tuple(tuple(float(v) for v in r) for r in cov))

    def _grads(self) -> tuple[np.ndarray, np.ndarray]:
        y, d, u, w = self.mean
        g_metric = np.array([1 / d, -y / d**2, 0.0, 0.0]) if d != 0 else np.full(4, np.nan)
        g_cov = np.array([0.0, 0.0, 1 / w, -u / w**2]) if w != 0 else np.zeros(4)
        return g_metric, g_cov

    @property
    def value(self) -> float:
        return self.mean[0] / self.mean[1] if self.mean[1] != 0 else math.nan

    @property
    def covariate(self) -> float:
        return self.mean[2] / self.mean[3] if self.mean[3] != 0 else 0.0

    def variances(self) -> tuple[float, float, float]:
        """Variance of the metric's estimate, of the covariate's, and their covariance (delta method)."""
        g_m, g_c = self._grads()
        sigma = np.array(self.cov)
        return (float(g_m @ sigma @ g_m) / self.n, float(g_c @ sigma @ g_c) / self.n,
                float(g_m @ sigma @ g_c) / self.n)


@dataclass(frozen=True)
class Comparison:
    control_value: float
    treatment_value: float
    abs_diff: float
    ci_low: float
    ci_high: float
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    se: float
    df: float
    variance_reduction: float | None
    mde_abs: float
    mde: float
    power: float


def compare(control: GroupMoments, treatment: GroupMoments, confidence: float = 0.95,
            cuped: bool = False, use_t: bool = True, power: float = 0.8,
            min_effect: float = 0.05) -> Comparison:
    """Treatment vs control: absolute and relative lift with CIs, p-value, MDE and power.

    CUPED: θ = (cov_c + cov_t) / (var_c + var_t) over the two groups' estimates; each group's value
    becomes value − θ·(covariate − pooled covariate). The relative lift's CI is the delta method on
    the log of the ratio, so it is not obtained by dividing the ends of the absolute CI.
    """
    var_c, cvar_c, ccov_c = control.variances()
    var_t, cvar_t, ccov_t = treatment.variances()
    theta = 0.0
    if cuped and cvar_c + cvar_t > 0:
        theta = (ccov_c + ccov_t) / (cvar_c + cvar_t)
    pooled_cov = (control.n * control.covariate + treatment.n * treatment.covariate) / (control.n + treatment.n)
    value_c = control.value - theta * (control.covariate - pooled_cov)
    value_t = treatment.value - theta * (treatment.covariate - pooled_cov)
    adj_c = var_c - 2 * theta * ccov_c + theta**2 * cvar_c
    adj_t = var_t - 2 * theta * ccov_t + theta**2 * cvar_t
    reduction = 1 - (adj_c + adj_t) / (var_c + var_t) if cuped and var_c + var_t > 0 else None
    diff = value_t - value_c
    se = math.sqrt(max(adj_c + adj_t, 0.0))
    alpha = 1 - confidence
    if use_t and se > 0:
        df = (adj_c + adj_t) ** 2 / (adj_c**2 / max(control.n - 1, 1) + adj_t**2 / max(treatment.n - 1, 1))
        dist = stats.t(df)
    else:
        df = math.inf
        dist = stats.norm()
    q = float(dist.ppf(1 - alpha / 2))
    if se > 0:
        p_value = float(2 * dist.sf(abs(diff) / se))
    else:
        p_value = 1.0 if diff == 0 else 0.0
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    if value_c > 0 and value_t > 0:
        ratio = value_t / value_c
        se_log = math.sqrt(max(adj_t / value_t**2 + adj_c / value_c**2, 0.0))
        rel, rel_lo, rel_hi = ratio - 1, ratio * math.exp(-z_alpha * se_log) - 1, ratio * math.exp(
            z_alpha * se_log) - 1
    else:
        rel = rel_lo = rel_hi = math.nan
    mde_abs = (z_alpha + float(stats.norm.ppf(power))) * se
    effect = abs(min_effect * value_c)
    pw = float(stats.norm.cdf(effect / se - z_alpha) + stats.norm.cdf(-effect / se - z_alpha)) if se > 0 else 1.0
    return Comparison(
        control_value=value_c, treatment_value=value_t, abs_diff=diff, ci_low=diff - q * se,
        ci_high=diff + q * se, rel_lift=rel, rel_ci_low=rel_lo, rel_ci_high=rel_hi, p_value=p_value,
        se=se, df=df, variance_reduction=reduction, mde_abs=mde_abs,
        mde=mde_abs / value_c if value_c else math.nan, power=pw)


def srm_test(counts: list[int], expected_shares: list[float]) -> tuple[float, float]:
    """Chi-square goodness of fit of group sizes against the planned split: (chi2, p-value)."""
    total = sum(counts)
    shares = np.asarray(expected_shares, dtype=float)
    expected = total * shares / shares.sum()
    result = stats.chisquare(counts, expected)
    return float(result.statistic), float(result.pvalue)


def adjust_pvalues(p_values: list[float], method: str) -> list[float]:
    """Holm (family-wise) or Benjamini-Hochberg (false discovery rate) adjusted p-values."""
    if not p_values or method == "none":
        return list(p_values)
    sm_method = {"holm": "holm", "bh": "fdr_bh"}[method]
    clean = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    return [float(p) for p in multipletests(clean, method=sm_method)[1]]
