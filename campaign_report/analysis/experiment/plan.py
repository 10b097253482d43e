"""The next test, planned from this one: how many customers per arm, or how many days, to detect an effect.

From the readout's own variance (CUPED-adjusted where it was used): the primary metric's minimum detectable
effect at the end of this test's window, with its α (÷ the correction family) and power, and the inference it
used (a confidence sequence needs somewhat more data than a test read once). The MDE shrinks as 1/√(customers
per arm) and, purchases accumulating over the window, as 1/√(days): so to detect an effect δ the next test
needs (MDE/δ)² times this test's customers per arm over the same window, or (MDE/δ)² times its days with the
same customers.
"""

from __future__ import annotations

import math

from scipy.stats import norm

from campaign_report.analysis.experiment.result import ExperimentResult, SegmentHypothesis, TestPlan


def plan_next_test(exp: ExperimentResult, effect: float, power: float, base: int = 0) -> tuple[TestPlan, ...]:
    """One plan per treatment arm, for its primary metric. `base`: the customers there are; when the plan
    needs more per arm than the base split into this test's groups holds, it says what the whole base can
    detect instead."""
    sizes = {g.name: g.n for g in exp.groups}
    arms = max(len(exp.groups), 2)  # the control and every treatment share the base
    plans = []
    for m in exp.metrics:
        if m.metric != exp.primary or not (math.isfinite(m.mde) and m.mde > 0) or effect <= 0:
            continue
        ratio = (m.mde / effect) ** 2
        per_arm_now = min(sizes[exp.control], sizes[m.treatment])
        days = exp.look.days if exp.look is not None else None
        plans.append(TestPlan(treatment=m.treatment, metric=m.metric, effect=effect, confidence=exp.confidence,
                              power=power, inference=exp.inference, mde_now=m.mde, per_arm_now=per_arm_now,
                              per_arm=math.ceil(per_arm_now * ratio), window_days=days,
                              days=days * ratio if days is not None else None, base=base, arms=arms,
                              mde_whole_base=m.mde * math.sqrt(per_arm_now / max(base // arms, 1)) if base
                              else math.nan))
    return tuple(plans)


def segment_hypothesis(exp: ExperimentResult, power: float) -> SegmentHypothesis | None:
    """The segment the decision's arm moved most beyond its average effect, as the next test's hypothesis; None
    when no cut's segments differ beyond chance or no segment's corrected interval clears the average effect.

    The claim is "stronger than on average", so the next test is sized to tell the segment's effect, if it is
    its lower interval end, from the average effect: per group it needs (MDE / (lower end − average))² times
    the segment's customers here, MDE = (z₁₋α/₂ + z_power) × SE / control mean, with the segment's own variance."""
    decision = exp.decision
    overall = next((m for m in exp.metrics if m.treatment == decision.treatment and m.metric == exp.primary), None)
    if overall is None or decision.verdict == "invalid" or not math.isfinite(overall.rel_lift):
        return None
    differing = {h.dimension for h in exp.heterogeneity
                 if h.differ and h.treatment == decision.treatment and h.metric == exp.primary}
    candidates = [e for e in exp.by_segment
                  if e.dimension in differing and e.treatment == decision.treatment and e.metric == exp.primary
                  and e.significant and e.rel_ci_low > max(overall.rel_lift, 0.0) and e.control_value > 0
                  and math.isfinite(e.std_error) and e.std_error > 0]
    if not candidates:
        return None
    best = max(candidates, key=lambda e: e.rel_ci_low)
    z = norm.ppf(1 - (1 - exp.confidence) / 2) + norm.ppf(power)
    mde = z * best.std_error / best.control_value
    per_arm_now = min(best.n_control, best.n_treatment)
    per_arm = max(1, math.ceil(per_arm_now * (mde / (best.rel_ci_low - overall.rel_lift)) ** 2))
    return SegmentHypothesis(dimension=best.dimension, segment=best.segment, treatment=best.treatment,
                             metric=best.metric, rel_lift=best.rel_lift, rel_ci_low=best.rel_ci_low,
                             rel_ci_high=best.rel_ci_high, overall_lift=overall.rel_lift, expected=best.rel_ci_low,
                             per_arm_now=per_arm_now, per_arm=per_arm, power=power)
