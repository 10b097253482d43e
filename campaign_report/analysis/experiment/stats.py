"""Two-sample comparisons from sufficient statistics.

Every metric is treated as a ratio of means, ȳ/d̄ (d = 1 for plain means such as conversion or ARPU,
d = orders for the average check), with an optional covariate ratio ū/w̄ from the pre-period for CUPED.
A group is summarised by n, the means of (y, d, u, w) and their 4×4 covariance: enough for the
delta-method variance of both ratios and their covariance, so the statistics can come from an
engine's aggregates instead of raw rows (as in GrowthBook's gbstats and tea-tasting).

Distributions, multiple-testing corrections and the chi-square test come from scipy/statsmodels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from campaign_report.analysis.experiment.sequential import Sequential


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
class Interval:
    """Absolute and relative confidence interval at one confidence level."""

    level: float
    low: float
    high: float
    rel_low: float
    rel_high: float


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
    theta: float = 0.0  # CUPED's coefficient; 0 means no adjustment happened
    var_control: float = 0.0  # variance of each group's (adjusted) estimate, for intervals at other levels
    var_treatment: float = 0.0
    use_t: bool = True
    sequential: Sequential | None = None  # the confidence sequence the intervals and p-value come from, if any
    information: float = 1.0  # share of the planned information at this look (the window elapsed)

    def interval(self, level: float) -> Interval:
        """Both intervals at `level`, from the same quantile as the test, so that each excludes "no
        effect" exactly when the p-value is below 1 − level.

        The relative interval is Fieller's: the ratios r not rejected by the test of treatment = r × control,
        (ȳ_t − r·ȳ_c)² ≤ q²(V_t + r²·V_c). At r = 1 that is the difference test itself. On lognormal revenue
        (σ up to 2, 1,000 per group) it covers 95–97 %, where the log-ratio delta method covered 88 %.
        """
        q = self._quantile(1 - level)
        rel_low, rel_high = fieller(self.treatment_value, self.var_treatment, self.control_value,
                                    self.var_control, q)
        return Interval(level, self.abs_diff - q * self.se, self.abs_diff + q * self.se, rel_low - 1,
                        rel_high - 1)

    def _quantile(self, alpha: float) -> float:
        if self.sequential is not None:
            return self.sequential.quantile(alpha, self.information)
        if self.use_t and math.isfinite(self.df):
            return float(stats.t.ppf(1 - alpha / 2, self.df))
        return float(stats.norm.ppf(1 - alpha / 2))


def fieller(a: float, var_a: float, b: float, var_b: float, q: float) -> tuple[float, float]:
    """Fieller's interval for the ratio a/b of two independent estimates; (−inf, inf) when the
    denominator is not distinguishable from zero at this level (the ratio is then unbounded)."""
    denominator = b * b - q * q * var_b
    if b <= 0 or denominator <= 0:
        return -math.inf, math.inf
    root = math.sqrt(max(q * q * (a * a * var_b + b * b * var_a - q * q * var_a * var_b), 0.0))
    return (a * b - root) / denominator, (a * b + root) / denominator


def compare(control: GroupMoments, treatment: GroupMoments, confidence: float = 0.95,
            cuped: bool = False, use_t: bool = True, power: float = 0.8,
            min_effect: float = 0.05, tests_in_family: int = 1, sequential: Sequential | None = None,
            information: float = 1.0) -> Comparison:
    """Treatment vs control: absolute and relative lift with CIs, p-value, MDE and power.

    With `sequential`, the p-value and every interval come from the confidence sequence (valid at every
    look) at this share of the planned `information`, and MDE and power are those of the test at its planned
    end (the relative standard error shrinking as √information): what it can still detect if it runs on.

    CUPED: θ = (cov_c + cov_t) / (var_c + var_t) over the two groups' estimates; each group's value
    becomes value − θ·(covariate − pooled covariate). The intervals are at `confidence` (unadjusted);
    `Comparison.interval` gives them at another level. MDE and power are at α / tests_in_family: under
    Holm, Bonferroni or Benjamini-Hochberg over m tests that is the level a test must reach when
    nothing else in its family is significant, so the stated power holds in the worst case.
    """
    var_c, cvar_c, ccov_c = control.variances()
    var_t, cvar_t, ccov_t = treatment.variances()
    theta = 0.0
    if cuped and cvar_c + cvar_t > 0:
        theta = (ccov_c + ccov_t) / (cvar_c + cvar_t)
    pooled_cov = (control.n * control.covariate + treatment.n * treatment.covariate) / (control.n + treatment.n)
    value_c = control.value - theta * (control.covariate - pooled_cov)
    value_t = treatment.value - theta * (treatment.covariate - pooled_cov)
    adj_c = max(var_c - 2 * theta * ccov_c + theta**2 * cvar_c, 0.0)
    adj_t = max(var_t - 2 * theta * ccov_t + theta**2 * cvar_t, 0.0)
    reduction = 1 - (adj_c + adj_t) / (var_c + var_t) if theta != 0 and var_c + var_t > 0 else None
    diff = value_t - value_c
    se = math.sqrt(adj_c + adj_t)
    if use_t and se > 0:
        df = (adj_c + adj_t) ** 2 / (adj_c**2 / max(control.n - 1, 1) + adj_t**2 / max(treatment.n - 1, 1))
    else:
        df = math.inf
    if se > 0 and sequential is not None:
        p_value = sequential.p_value(abs(diff) / se, information)
    elif se > 0:
        tail = stats.t.sf(abs(diff) / se, df) if math.isfinite(df) else stats.norm.sf(abs(diff) / se)
        p_value = float(2 * tail)
    else:
        p_value = 1.0 if diff == 0 else 0.0
    alpha_family = (1 - confidence) / max(tests_in_family, 1)
    # At the planned end: cumulative outcomes grow as the window (their mean ∝ time, their SD ∝ √time), so
    # the standard error relative to the control's value shrinks by √information.
    share = min(max(information, 1e-6), 1.0)
    se_end = se * math.sqrt(share)
    z_alpha = sequential.quantile(alpha_family, 1.0) if sequential is not None else \
        float(stats.norm.ppf(1 - alpha_family / 2))
    mde_abs = (z_alpha + float(stats.norm.ppf(power))) * se_end
    effect = abs(min_effect * value_c)
    pw = float(stats.norm.cdf(effect / se_end - z_alpha) + stats.norm.cdf(-effect / se_end - z_alpha)) \
        if se_end > 0 else 1.0
    defined = value_c > 0 and value_t >= 0
    base = Comparison(
        control_value=value_c, treatment_value=value_t, abs_diff=diff, ci_low=math.nan, ci_high=math.nan,
        rel_lift=value_t / value_c - 1 if defined else math.nan, rel_ci_low=math.nan, rel_ci_high=math.nan,
        p_value=p_value, se=se, df=df, variance_reduction=reduction, mde_abs=mde_abs,
        mde=mde_abs / value_c if value_c else math.nan, power=pw, theta=theta, var_control=adj_c,
        var_treatment=adj_t, use_t=use_t, sequential=sequential, information=information)
    ci = base.interval(confidence)
    rel_low, rel_high = (ci.rel_low, ci.rel_high) if defined else (math.nan, math.nan)
    return dataclasses.replace(base, ci_low=ci.low, ci_high=ci.high, rel_ci_low=rel_low, rel_ci_high=rel_high)


def adjusted_level(p_value: float, p_adjusted: float, confidence: float) -> float:
    """The confidence level at which an interval excludes "no effect" exactly when the adjusted p-value
    is below 1 − confidence: α·p/p̃. Under Bonferroni that is α/m; under Holm α/(m − k + 1) for the
    k-th smallest p-value (smaller when an earlier step already failed)."""
    alpha = 1 - confidence
    if not (math.isfinite(p_value) and math.isfinite(p_adjusted)) or p_adjusted <= 0 or p_value <= 0:
        return confidence
    return 1 - alpha * min(p_value / p_adjusted, 1.0)


def srm_test(counts: list[int], expected_shares: list[float]) -> tuple[float, float]:
    """Chi-square goodness of fit of group sizes against the planned split: (chi2, p-value)."""
    total = sum(counts)
    shares = np.asarray(expected_shares, dtype=float)
    expected = total * shares / shares.sum()
    result = stats.chisquare(counts, expected)
    return float(result.statistic), float(result.pvalue)


def adjust_pvalues(p_values: list[float], method: str) -> list[float]:
    """Holm (family-wise) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    Holm is the step-down max(k ≤ i) (m − k + 1)·p₍ₖ₎ written out: statsmodels' version runs a full
    garbage collection per call (0.1 s in a large process, per readout and per simulation)."""
    if not p_values or method == "none":
        return list(p_values)
    clean = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    if method == "holm":
        order = np.argsort(clean, kind="stable")
        steps = np.maximum.accumulate(clean[order] * np.arange(len(clean), 0, -1))
        adjusted = np.empty_like(clean)
        adjusted[order] = np.minimum(steps, 1.0)
        return [float(p) for p in adjusted]
    return [float(p) for p in multipletests(clean, method="fdr_bh")[1]]


def cochran_q(effects: list[float], std_errors: list[float]) -> tuple[float, int, float]:
    """Cochran's Q test that independent estimates share one value: (Q, degrees of freedom, p)."""
    w = 1 / np.square(np.asarray(std_errors, dtype=float))
    theta = np.asarray(effects, dtype=float)
    pooled = float(np.sum(w * theta) / np.sum(w))
    q = float(np.sum(w * (theta - pooled) ** 2))
    df = len(theta) - 1
    return q, df, float(stats.chi2.sf(q, df))
