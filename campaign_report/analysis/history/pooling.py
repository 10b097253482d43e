"""What the campaigns teach about segments together: a random-effects meta-analysis per segment.

Each campaign measured the segment's lift of the primary metric with its own precision; the campaigns differ
(offer, season, creative), so their true lifts are not assumed equal: the between-campaign variance τ² is
estimated (Paule–Mandel) and the pooled mean's interval is Hartung–Knapp's, with t on k − 1 degrees of
freedom, widened to the plain random-effects interval when that is wider (the "modified" HK rule). With the
two or three campaigns a history usually has, the normal-quantile DerSimonian–Laird interval covers far less
than it claims (tests/test_history.py measures both). Ratios are pooled on the log scale, where the sampling
distribution is close to normal and a lift of −50 % mirrors one of +100 %.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from campaign_report.analysis.history.result import CampaignEntry, PooledSegment, SegmentLift

MIN_CAMPAIGNS = 2


def pool_lifts(log_ratios: np.ndarray, standard_errors: np.ndarray, confidence: float) -> tuple[float, float, float,
                                                                                                   float, float, float]:
    """(mean, low, high, tau, I², Q's p-value) of the log ratios, by the rule in the module docstring."""
    variances = standard_errors ** 2
    k = len(log_ratios)
    fit = combine_effects(log_ratios, variances, method_re="iterated", use_t=True, alpha=1 - confidence)
    tau2 = max(float(fit.tau2), 0.0)
    plain_var = 1.0 / float(np.sum(1.0 / (variances + tau2)))
    hk_var = float(fit.var_hksj_re)
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, k - 1)) * math.sqrt(max(plain_var, hk_var))
    mean = float(fit.mean_effect_re)
    q = float(fit.q)
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    q_p = float(stats.chi2.sf(q, k - 1))
    return mean, mean - half, mean + half, math.sqrt(tau2), i2, q_p


def pool_segments(campaigns: tuple[CampaignEntry, ...], confidence: float) -> tuple[PooledSegment, ...]:
    """Every segment measured (with a usable standard error) in at least two campaigns, pooled."""
    by_segment: dict[tuple[str, str], list[SegmentLift]] = {}
    for campaign in campaigns:
        for s in campaign.segments:
            if math.isfinite(s.log_ratio_se) and s.log_ratio_se > 0 and s.rel_lift > -1:
                by_segment.setdefault((s.dimension, s.segment), []).append(s)
    pooled = []
    for (dimension, segment), lifts in by_segment.items():
        if len(lifts) < MIN_CAMPAIGNS:
            continue
        mean, low, high, tau, i2, q_p = pool_lifts(np.log1p([s.rel_lift for s in lifts]),
                                                   np.array([s.log_ratio_se for s in lifts]), confidence)
        pooled.append(PooledSegment(dimension=dimension, segment=segment, campaigns=len(lifts),
                                    responded=sum(s.rel_ci_low > 0 for s in lifts), rel_lift=math.expm1(mean),
                                    ci_low=math.expm1(low), ci_high=math.expm1(high), confidence=confidence,
                                    tau=tau, i2=i2, q_p_value=q_p, lowest=min(s.rel_lift for s in lifts),
                                    highest=max(s.rel_lift for s in lifts)))
    return tuple(sorted(pooled, key=lambda p: (p.dimension, -p.rel_lift)))
