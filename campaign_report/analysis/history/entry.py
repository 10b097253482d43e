"""This run's campaign as a history entry, and the history it joins."""

from __future__ import annotations

import math

from campaign_report.analysis.config import Config
from campaign_report.analysis.experiment.result import ExperimentResult, MetricResult
from campaign_report.analysis.history.pooling import pool_segments
from campaign_report.analysis.history.result import ArmOutcome, CampaignEntry, HistoryResult, SegmentLift
from campaign_report.analysis.uplift.result import UpliftResult


def campaign_id(config: Config) -> str | None:
    """What makes two runs reads of the same campaign: its name and window (None without a test)."""
    exp = config.experiment
    if exp is None:
        return None
    return f"{exp.name or config.report.title}|{exp.start or ''}|{exp.end or ''}"


def _arm(exp: ExperimentResult, primary: MetricResult, names: dict[str, str]) -> ArmOutcome:
    arpu = next((m for m in exp.metrics if m.metric == "arpu" and m.treatment == primary.treatment), None)
    verdict = next((d.verdict for d in exp.decisions if d.treatment == primary.treatment), "no_detectable_effect")
    extra = (arpu.abs_diff * arpu.n_treatment, arpu.ci_low * arpu.n_treatment, arpu.ci_high * arpu.n_treatment) \
        if arpu is not None else (math.nan, math.nan, math.nan)
    return ArmOutcome(treatment=primary.treatment, n_treatment=primary.n_treatment, rel_lift=primary.rel_lift,
                      rel_ci_low=primary.rel_ci_low, rel_ci_high=primary.rel_ci_high, abs_diff=primary.abs_diff,
                      ci_low=primary.ci_low, ci_high=primary.ci_high, p_adjusted=primary.p_adjusted,
                      ci_level=primary.ci_level, verdict=verdict, extra_revenue=extra[0], extra_revenue_low=extra[1],
                      extra_revenue_high=extra[2], label=names.get(primary.treatment, ""))


def campaign_entry(config: Config, exp: ExperimentResult, uplift: UpliftResult | None, read: str) -> CampaignEntry:
    """What this run's readout said about its campaign, in the terms the history compares."""
    cid = campaign_id(config)
    assert cid is not None and config.experiment is not None
    names = config.report.names
    arms = tuple(_arm(exp, m, names) for m in exp.metrics if m.metric == exp.primary)
    lead = exp.decision.treatment if exp.decision.treatment in {a.treatment for a in arms} else \
        max(arms, key=lambda a: a.rel_lift if math.isfinite(a.rel_lift) else -math.inf).treatment
    segments = tuple(SegmentLift(dimension=e.dimension, segment=e.segment, rel_lift=e.rel_lift,
                                 rel_ci_low=e.rel_ci_low, rel_ci_high=e.rel_ci_high, ci_level=e.ci_level,
                                 log_ratio_se=e.log_ratio_se, n=e.n_control + e.n_treatment)
                     for e in exp.by_segment if e.treatment == lead and e.metric == exp.primary)
    contacts = sum(a.n_treatment for a in arms)
    cost = config.uplift.cost_per_contact
    return CampaignEntry(
        campaign_id=cid, name=config.experiment.name or config.report.title, start=exp.start, end=exp.end,
        primary=exp.primary, control=exp.control,
        n_control=next((m.n_control for m in exp.metrics if m.metric == exp.primary), 0), lead=lead,
        verdict=exp.decision.verdict, interim=exp.look is not None and exp.look.interim, inference=exp.inference,
        currency=config.report.currency, arms=arms, segments=segments, contacts=contacts,
        contact_cost=contacts * cost if cost > 0 else math.nan,
        margin=config.margin if config.margin is not None else math.nan,
        uplift_qini=uplift.qini if uplift is not None else math.nan,
        uplift_share=uplift.decision.contact_share if uplift is not None else math.nan, read=read,
        control_label=names.get(exp.control, ""))


def _order(entry: CampaignEntry) -> tuple[str, str, str]:
    return entry.start or entry.read[:10], entry.end or "", entry.read


def build_history(earlier: tuple[CampaignEntry, ...], this: CampaignEntry, confidence: float) -> HistoryResult:
    """Every campaign of the output folder, oldest first, with this run's entry in place of an earlier read of
    the same campaign; segments pooled across them."""
    campaigns = tuple(sorted([e for e in earlier if e.campaign_id != this.campaign_id] + [this], key=_order))
    return HistoryResult(campaigns=campaigns, current=this.campaign_id,
                         pooled=pool_segments(campaigns, confidence), confidence=confidence)
