"""Statistics against independent reference values and simulations with planted truths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.multitest import multipletests

from campaign_report.analysis.experiment.stats import GroupMoments, adjust_pvalues, compare, srm_test


def moments_from_summary(mean: float, sd: float, n: int) -> GroupMoments:
    sums = np.array([mean * n, n, 1.0 * n, n])
    cross = np.zeros((4, 4))
    cross[0, 0] = sd**2 * (n - 1) + n * mean**2
    cross[0, 1] = cross[1, 0] = cross[0, 2] = cross[2, 0] = cross[0, 3] = cross[3, 0] = mean * n
    cross[1:, 1:] = n
    return GroupMoments.from_sums(n, sums, cross)


def test_welch_golden_values():
    # Independent reference (DESIGN issue): 0.41 (sd 3.9, n 3407) vs 0.7 (sd 6.2, n 3461).
    c = compare(moments_from_summary(0.41, 3.9, 3407), moments_from_summary(0.7, 6.2, 3461))
    assert c.abs_diff == pytest.approx(0.29)
    assert c.ci_low == pytest.approx(0.04538, abs=1e-5)
    assert c.ci_high == pytest.approx(0.53462, abs=1e-5)
    assert c.p_value == pytest.approx(0.02016, abs=1e-5)


def test_welch_matches_scipy_on_raw_data():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(5, 1, 800), rng.lognormal(5.1, 1.2, 900)
    c = compare(GroupMoments.from_arrays(a), GroupMoments.from_arrays(b))
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_two_proportions_match_statsmodels():
    rng = np.random.default_rng(2)
    a = (rng.random(5000) < 0.10).astype(float)
    b = (rng.random(5200) < 0.108).astype(float)
    c = compare(GroupMoments.from_arrays(a), GroupMoments.from_arrays(b), use_t=False)
    ref = sm_proportion.test_proportions_2indep(b.sum(), len(b), a.sum(), len(a), method="wald", compare="diff",
                                  correction=False)
    low, high = sm_proportion.confint_proportions_2indep(b.sum(), len(b), a.sum(), len(a), method="wald",
                                                         compare="diff")
    # ddof=1 sample variance vs statsmodels' n-denominator: agreement to 1e-3 relative.
    assert c.p_value == pytest.approx(ref.pvalue, rel=2e-3)
    assert (c.ci_low, c.ci_high) == pytest.approx((low, high), rel=2e-3)


def test_srm_matches_scipy_chisquare():
    chi2, p = srm_test([5120, 4880], [0.5, 0.5])
    ref = stats.chisquare([5120, 4880], [5000, 5000])
    assert (chi2, p) == pytest.approx((ref.statistic, ref.pvalue))
    assert srm_test([600, 300, 300], [2, 1, 1])[1] == pytest.approx(1.0)


def test_corrections_match_statsmodels():
    p = [0.01, 0.04, 0.03, 0.2]
    assert adjust_pvalues(p, "holm") == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert adjust_pvalues(p, "bh") == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))
    assert adjust_pvalues(p, "none") == p


def test_ratio_delta_method_matches_bootstrap():
    rng = np.random.default_rng(3)
    orders = rng.poisson(1.2, 4000).astype(float)
    revenue = orders * rng.lognormal(7, 0.5, 4000)
    m = GroupMoments.from_arrays(revenue, orders)
    var_delta = m.variances()[0]
    boot = [revenue[idx].sum() / orders[idx].sum() for idx in rng.integers(0, 4000, size=(600, 4000))]
    assert math.sqrt(var_delta) == pytest.approx(np.std(boot), rel=0.1)
    assert m.value == pytest.approx(revenue.sum() / orders.sum())


def test_from_sums_equals_from_arrays():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 300))
    a = GroupMoments.from_arrays(*x)
    b = GroupMoments.from_sums(300, x.sum(axis=1), x @ x.T)
    assert np.allclose(a.mean, b.mean) and np.allclose(a.cov, b.cov)


def _simulate_arm(rng, n, p_buy, mu, sigma, pre_corr=True):
    """Customers: buy with p_buy, spend lognormal; pre-period spend correlated through a customer effect."""
    level = rng.normal(0, 0.6, n)
    buy = rng.random(n) < p_buy
    revenue = np.where(buy, np.exp(mu + level + rng.normal(0, sigma, n)), 0.0)
    pre = np.exp(mu + level + rng.normal(0, sigma, n)) * (rng.random(n) < p_buy)
    return buy.astype(float), revenue, pre


def true_arpu(p_buy, mu, sigma):
    return p_buy * math.exp(mu + 0.6**2 / 2 + sigma**2 / 2)


def test_ci_coverage_with_planted_lift():
    """1000 simulated experiments with a known ARPU lift: the 95 % CIs cover it 93-97 % of the time."""
    rng = np.random.default_rng(11)
    p0, p1, mu0, mu1, sigma = 0.2, 0.23, 6.0, 6.05, 0.8
    truth_abs = true_arpu(p1, mu1, sigma) - true_arpu(p0, mu0, sigma)
    truth_rel = true_arpu(p1, mu1, sigma) / true_arpu(p0, mu0, sigma) - 1
    hits_abs = hits_rel = hits_cuped = 0
    runs = 1000
    for _ in range(runs):
        _, r0, pre0 = _simulate_arm(rng, 1500, p0, mu0, sigma)
        _, r1, pre1 = _simulate_arm(rng, 1500, p1, mu1, sigma)
        c = compare(GroupMoments.from_arrays(r0), GroupMoments.from_arrays(r1))
        cc = compare(GroupMoments.from_arrays(r0, u=pre0), GroupMoments.from_arrays(r1, u=pre1), cuped=True)
        hits_abs += c.ci_low <= truth_abs <= c.ci_high
        hits_rel += c.rel_ci_low <= truth_rel <= c.rel_ci_high
        hits_cuped += cc.ci_low <= truth_abs <= cc.ci_high
    for hits in (hits_abs, hits_rel, hits_cuped):
        assert 0.93 <= hits / runs <= 0.97


def test_cuped_narrows_without_bias():
    rng = np.random.default_rng(5)
    base = rng.lognormal(6, 0.8, (2, 20000))
    pre0, pre1 = base * rng.lognormal(0, 0.3, base.shape)
    r0, r1 = base * rng.lognormal(0, 0.3, base.shape) * (rng.random(base.shape) < 0.6)
    plain = compare(GroupMoments.from_arrays(r0), GroupMoments.from_arrays(r1))
    cuped = compare(GroupMoments.from_arrays(r0, u=pre0), GroupMoments.from_arrays(r1, u=pre1), cuped=True)
    assert cuped.variance_reduction > 0.05
    assert cuped.ci_high - cuped.ci_low < plain.ci_high - plain.ci_low
    assert abs(cuped.abs_diff) < 4 * cuped.se


def test_mde_and_power_are_consistent():
    c = compare(moments_from_summary(100, 50, 2000), moments_from_summary(100, 50, 2000), min_effect=0.05)
    # MDE at 80 % power: (1.96 + 0.8416) * se; power at exactly the MDE is 80 %.
    assert c.mde_abs == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * c.se)
    at_mde = compare(moments_from_summary(100, 50, 2000), moments_from_summary(100, 50, 2000),
                     min_effect=c.mde_abs / 100)
    assert at_mde.power == pytest.approx(0.8, abs=0.01)


def test_degenerate_groups_do_not_crash():
    zeros = GroupMoments.from_arrays(np.zeros(100))
    c = compare(zeros, zeros)
    assert c.p_value == 1.0 and math.isnan(c.rel_lift)
