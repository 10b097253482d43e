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

from campaign_report.analysis.experiment.result import ExperimentResult, TestPlan


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
