"""Page 1's "what to do next": at most three steps, each following from a result that ran.

A step never goes beyond its evidence: a winning arm is rolled out with a control group kept, two winning
arms are not ranked against each other (that comparison was not tested), an offer without a measured
effect is proposed as a test, not as a roll-out.
"""

from __future__ import annotations

import math

from campaign_report.analysis.experiment.result import SegmentHypothesis, TestPlan
from campaign_report.analysis.results import Results
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.sections.appendix import acquisition_values
from campaign_report.renderers.sections.offers import segment_name
from campaign_report.renderers.sections.uplift import chosen_profit, gain_word
from campaign_report.renderers.wording import (
    dimension_name,
    group_name,
    lower_first,
    meaning_key,
    offer_text,
)
from campaign_report.renderers.wording import segment_name as cut_value_name

MAX_STEPS = 4


def plan_text(f: Formatter, plan: TestPlan) -> str:
    """The next test in one sentence: customers per arm over the same window, or days with today's arms."""
    values = dict(metric=f.t(f"metric.{plan.metric}"), effect=f.percent(plan.effect, 0),
                  alpha=f.number(1 - plan.confidence, 2), power=f.percent(plan.power, 0),
                  per_arm=f.plural(plan.per_arm, "customer"), per_arm_now=f.integer(plan.per_arm_now))
    if not plan.feasible:
        # More customers than there are: say what the whole base can detect instead of an impossible size.
        longer = f.t("next.plan_longer", mde=f.percent(plan.mde_whole_base_longer, 1),
                     window=f.plural(4 * plan.window_days, "day")) if plan.window_days else ""
        # A test that already took the whole base is not proposed again as "a test of the whole base".
        used = plan.per_arm_now >= 0.9 * plan.base_per_arm
        return f.t("next.plan_base_used" if used else "next.plan_base", **values, base=f.plural(plan.base, "customer"),
                   base_per_arm=f.integer(plan.base_per_arm), mde=f.percent(plan.mde_whole_base, 1), longer=longer)
    # A longer window is offered only while it stays a campaign's window: past four times this one the
    # customers' behaviour drifts and the offer reads as absurd ("760 days").
    if plan.window_days is not None and plan.days is not None and plan.days <= 4 * plan.window_days:
        return f.t("next.plan_days", **values, window=f.plural(plan.window_days, "day"),
                   days=f.plural(math.ceil(plan.days), "day"))
    return f.t("next.plan", **values)


def hypothesis_text(f: Formatter, results: Results, h: SegmentHypothesis) -> str:
    """The next test as a hypothesis: the segment, its effect against the average, the effect it is sized for."""
    names = results.meta.names
    return f.t("next.hypothesis", arm=f.quote(group_name(f, names, h.treatment)),
               segment=f.quote(cut_value_name(f, h.dimension, h.segment)),
               dimension=lower_first(dimension_name(f, names, h.dimension)),
               metric=f.t(f"metric_short.{h.metric}"), lift=f.percent(h.rel_lift, 1, sign=True),
               overall=f.percent(h.overall_lift, 1, sign=True),
               ci=f.percent_range(h.rel_ci_low, h.rel_ci_high), expected=f.percent(h.expected, 1, sign=True),
               per_arm=f.plural(h.per_arm, "customer"), per_arm_now=f.integer(h.per_arm_now),
               power=f.percent(h.power, 0))


def _consent(f: Formatter, no_consent: int | None) -> str:
    return f.t("next.contact_consent", n=f.integer(no_consent)) if no_consent else ""


def next_steps(f: Formatter, results: Results) -> list[str]:
    """The actions the results support, most consequential first."""
    steps: list[str] = []
    names = results.meta.names
    exp = results.experiment
    stop = results.meaning.acquisition_stop
    if stop is not None and stop.kind == "stopped":
        # The data's own flaw comes first: repeat purchases, recency and value rest on the customer ids it puts in
        # question, and acting on them before the export is checked acts on an artefact.
        steps.append(f.t("next.check_export", **acquisition_values(f, stop)))
    if exp is not None:
        primary = {m.treatment: m for m in exp.metrics if m.metric == exp.primary}
        metric = f.t(f"metric.{exp.primary}")
        winners = [d.treatment for d in exp.decisions if d.verdict == "win"]
        def effect(arm: str) -> str:
            m = primary[arm]
            return f.metric_diff(m.metric, m.abs_diff)

        if len(winners) > 1:
            quoted = [f.quote(group_name(f, names, w)) for w in winners]
            arms = ", ".join(quoted[:-1]) + f" {f.t('next.and')} " + quoted[-1]
            effects = ", ".join(f"{q} {effect(w)}" for q, w in zip(quoted, winners, strict=True))
            h = next(iter(exp.head_to_head), None)
            if h is None:
                steps.append(f.t("next.compare_winners", arms=arms, metric=metric, effects=effects))
            else:
                values = dict(best=f.quote(group_name(f, names, h.better)),
                              other=f.quote(group_name(f, names, h.other)), metric=metric, effects=effects,
                              diff=f.metric_diff(h.metric, h.abs_diff),
                              ci=f.metric_range(h.metric, h.ci_low, h.ci_high))
                steps.append(f.t("next.roll_out_best" if h.significant else "next.winners_tied", **values))
        for d in exp.decisions:
            arm = f.quote(group_name(f, names, d.treatment))
            m = primary.get(d.treatment)
            if d.verdict == "win" and len(winners) == 1 and m is not None:
                versus = " ".join(f.t("next.versus_better" if h.significant else "next.versus_untold",
                                      arm=arm, other=f.quote(group_name(f, names, h.other)),
                                      diff=f.metric_diff(h.metric, h.abs_diff),
                                      ci=f.metric_range(h.metric, h.ci_low, h.ci_high))
                                  for h in exp.head_to_head if h.better == d.treatment)
                # A win smaller than its test's MDE is said to be likely overstated, with a larger control group.
                steps.append(" ".join(x for x in (f.t("next.roll_out_overstated" if m.likely_overstated
                                                      else "next.roll_out",
                                                      arm=arm, effect=effect(d.treatment), mde=f.percent(m.mde, 1),
                                                      ci=f.metric_range(m.metric, m.ci_low, m.ci_high)), versus)
                                      if x))
            elif d.verdict == "loss":
                steps.append(f.t("next.stop", arm=arm, metric=metric))
            elif d.verdict == "invalid":
                steps.append(f.t("next.invalid", arm=arm))
            elif d.verdict == "no_detectable_effect" and m is not None and exp.look is not None and exp.look.interim:
                steps.append(f.t("next.keep_running", arm=arm, metric=metric, mde=f.percent(m.mde, 1),
                                 left=f.plural(exp.look.days - exp.look.day, "day_left")))
            elif d.verdict == "no_detectable_effect" and m is not None:
                steps.append(f.t("next.no_effect", arm=arm, metric=metric, mde=f.percent(m.mde, 1)))
    p = results.propensity
    # What the contact is for follows the label's meaning: keep those likely to leave; those likely to buy anyway
    # get something extra, not a discount they would not have needed.
    meaning = meaning_key(results)
    purpose = f.t(f"next.contact_{meaning}")
    # Those likely to buy anyway get an offer, not a hand-over "to retain": the step leads with what to give them.
    # Whom the contact may not reach by message is said in the step itself: a CRM that sends a letter to all
    # would write to customers who did not allow it.
    template, case = ("next.contact_offer", "customer_dat") if meaning == "good" else ("next.contact", "customer_acc")
    contact_step = None
    if p is not None and p.action_segment is not None:
        contact_step = len(steps)
        steps.append(f.t(template, customers=f.plural(p.action_segment.size, case), purpose=purpose,
                         consent=_consent(f, p.action_segment.no_consent)))
    elif p is not None and p.target_list is not None:
        steps.append(f.t(template, customers=f.plural(p.target_list.above_threshold, case),
                         purpose=purpose, consent=_consent(f, p.target_list.no_consent)))
    life = results.lifetime
    if p is None and life is not None and life.fits and life.slipping is not None and life.slipping.size:
        steps.append(f.t("next.slipping", size=f.plural(life.slipping.size, "customer"),
                         stake=f.money_short(life.slipping.yearly_value_at_stake),
                         money=f.t(f"lifetime.money_{life.value_basis}")))
    u = results.uplift
    if u is not None and u.decision.rule == "top_share":
        steps.append(f.t("next.uplift", share=f.percent(u.decision.contact_share, 0),
                         customers=f.plural(u.decision.contacts, "customer"),
                         profit=chosen_profit(f, u.decision),
                         everyone=f.money_short(u.decision.everyone_profit, sign=True),
                         gain=gain_word(f, u.decision)))
    o = results.offers
    if o is not None:
        untested = [s for s in o.segments if s.kind in ("action", "cluster") and s.offers
                    and all(x.expected_effect is None for x in s.offers)]
        if untested:
            # The segment the report asks to act on comes first, else the largest cluster, and the step says why
            # (a test on a cluster of low revenue per customer read as arbitrary). Not the cluster of most revenue:
            # a flagged order line can make that one (ecom_profiles: 25 % of revenue, 12 % without the line).
            first = max(untested, key=lambda s: (s.kind == "action", s.size))
            largest = all(first.size >= s.size for s in o.segments if s.kind == "cluster")
            # What to do and for whom leads, short enough to be the summary slide's title (its first clause); the
            # offer and how to test it follow.
            whom = f.t(f"next.whom_{meaning_key(results)}") if first.kind == "action" else \
                f.t("next.whom_cluster", segment=f.quote(segment_name(f, results, first.kind, first.key)))
            size = f.t("next.size_largest" if largest and first.kind == "cluster" else "next.size",
                       customers=f.plural(first.size, "customer"))
            if first.kind == "action" and contact_step is not None and p is not None and p.action_segment is not None:
                # The same customers as the hand-over: one step names the offer, the consent and one hold-out rule
                # (two steps gave one list a letter after saying "no letters" to some, and two hold-outs).
                steps[contact_step] = f.t("next.contact_named_offer",
                                          customers=f.plural(p.action_segment.size, "customer"),
                                          offer=lower_first(offer_text(f, first.offers[0])),
                                          consent=_consent(f, p.action_segment.no_consent))
            else:
                # Half without the offer: the split that measures its effect best on a given segment.
                steps.append(f.t("next.test_offer", offer=lower_first(offer_text(f, first.offers[0])), whom=whom,
                                 size=size, held=f.integer(first.size // 2)))
    steps = steps[:MAX_STEPS - 1]
    if exp is not None and exp.hypothesis is not None and not (exp.look is not None and exp.look.interim):
        # What to test next closes the list: a hypothesis the data found, with the effect it is sized for ...
        steps.append(hypothesis_text(f, results, exp.hypothesis))
    elif exp is not None and exp.plans and not (exp.look is not None and exp.look.interim):
        # ... else how large a test must be to detect the configured effect, for the arm the decision is about.
        plan = next((x for x in exp.plans if x.treatment == exp.decision.treatment), exp.plans[0])
        steps.append(plan_text(f, plan))
    return steps[:MAX_STEPS]
