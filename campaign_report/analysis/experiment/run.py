"""The experiment stage: checks on the groups, outcomes in the window, pre-campaign segments, engine sums
-> the readout. Called by analysis.analyze; everything here reads the engine's tables, not files."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd

from campaign_report.analysis.config import Config, RfmRule
from campaign_report.analysis.customers.rfm import analyze_rfm, cycle_from_gaps
from campaign_report.analysis.customers.segments import ClusterModel, assign_clusters
from campaign_report.analysis.data.clean import QualityIssue, TableQuality
from campaign_report.analysis.data.features import build_customer_features, experiment_outcomes, purchase_gaps
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.errors import ConfigError, InputError
from campaign_report.analysis.experiment.observational import daily_series, estimate_promo_days
from campaign_report.analysis.experiment.plan import plan_next_test, segment_hypothesis
from campaign_report.analysis.experiment.readout import analyze_experiment, pick_control
from campaign_report.analysis.experiment.result import ExperimentResult, GroupSize, Look, ObservationalEffect
from campaign_report.analysis.experiment.sums import experiment_sums, segment_labels


def add_issue(quality: list[TableQuality], table: str, issue: QualityIssue) -> None:
    """Add a finding made after validation to that table's record (one record per table)."""
    for i, q in enumerate(quality):
        if q.name == table:
            quality[i] = dataclasses.replace(q, issues=(*q.issues, issue))
            return


def pre_campaign_segments(engine: Engine, customers: pd.DataFrame | None, start: date,
                          cluster_model: ClusterModel | None, with_rfm: bool, rules: tuple[RfmRule, ...] = (),
                          ) -> tuple[pd.Series | None, pd.Series | None]:
    """Clusters and RFM from purchases before the campaign: segmenting the readout by anything the
    campaign itself changed (October purchases move RFM scores) would bias the per-segment effects."""
    engine.view("tx_pre", f"SELECT * FROM tx WHERE date < DATE '{start:%Y-%m-%d}'")
    if engine.scalar("SELECT count(*) FROM tx_pre") == 0:
        return None, None
    ids = customers["id"] if customers is not None else None
    pre = build_customer_features(engine, ids, table="tx_pre", as_of=pd.Timestamp(start))
    clusters = assign_clusters(cluster_model, pre, customers) if cluster_model is not None else None
    rfm = analyze_rfm(pre.frame, rules, cycle_from_gaps(*purchase_gaps(engine, "tx_pre")))[1] if with_rfm else None
    return clusters, rfm


def cap_revenue(engine: Engine, units: str, percentile: float | None) -> tuple[str, float | None]:
    """Revenue outcomes capped at a percentile of the customers who bought, pooled over the groups (one cap for
    every arm, set before any comparison): a few very large orders cannot decide the test. Returns the table
    to read and the cap (None: not capped)."""
    if percentile is None:
        return units, None
    revenue = engine.frame(f"SELECT revenue FROM {units} WHERE revenue > 0")["revenue"].to_numpy(dtype=float)
    if not len(revenue):
        return units, None
    cap = float(np.quantile(revenue, percentile))
    columns = ", ".join(f"least(revenue, {cap!r}) AS revenue" if c == "revenue" else c
                        for c in engine.schema(f"SELECT * FROM {units}"))
    engine.table(f"{units}_capped", f"SELECT {columns} FROM {units}")
    return f"{units}_capped", cap


def run_experiment(config: Config, engine: Engine, assignment: pd.DataFrame, customers: pd.DataFrame | None,
                   cluster_model: ClusterModel | None, cluster_names: dict[int, str], with_rfm: bool,
                   quality: list[TableQuality], has_tx: bool, notes: list[tuple[str, str]],
                   earlier_looks: int = 0) -> ExperimentResult:
    """The A/B readout of the configured experiment (quality records of late findings are amended; what
    was configured but could not run is added to `notes`)."""
    settings = config.experiment
    assert settings is not None
    source = config.tables["experiment"]
    file = source.path.name if source.path else "experiment"
    counts = assignment["grp"].value_counts()
    groups = sorted(counts.index)
    found = ", ".join(f"'{g}' ({counts[g]:,})" for g in groups)
    control = pick_control(groups, source.option("control"))
    if control is None:
        raise ConfigError(f"[data.experiment] control is not set and no group is called 'control'; "
                          f"groups in {file}: {found}. Set control = \"<the control group>\"")
    if control not in groups:
        raise InputError(file, f"control group value not found (groups: {found})", column=source.column("group"),
                         value=control)
    split = dict(settings.expected_split)
    not_compared: tuple[GroupSize, ...] = ()
    if split:
        absent = [g for g in split if g not in groups]
        if absent:
            raise InputError(file, f"expected_split names groups that are not in the data (groups: {found})",
                             column=source.column("group"), value=", ".join(absent))
        if control not in split:
            raise ConfigError(f"[experiment] expected_split must include the control group '{control}'")
        not_compared = tuple(GroupSize(g, int(counts[g]), 0.0, counts[g] / len(assignment))
                             for g in groups if g not in split)
        if not_compared:
            add_issue(quality, "experiment", QualityIssue(
                "group_not_compared", source.column("group"), sum(g.n for g in not_compared), "excluded",
                ", ".join(g.name for g in not_compared)))
            assignment = assignment[assignment["grp"].isin(list(split))]
            groups = [g for g in groups if g in split]
    if len(groups) < 2:
        raise InputError(file, "the experiment has a single group; nothing to compare", column=source.column("group"),
                         value=groups[0])
    outcome_cols = [c for c in ("converted", "revenue", "orders", "pre_revenue")
                    if c in assignment and assignment[c].notna().any()]
    if not has_tx and not {"converted", "revenue"} & set(outcome_cols):
        raise ConfigError("[data.experiment] needs outcome columns (converted, revenue) "
                          "or a [data.transactions] table")
    if has_tx and (settings.start is None or settings.end is None):
        raise ConfigError("[experiment] needs start and end dates")
    start = pd.Timestamp(settings.start).date() if settings.start else None
    end = pd.Timestamp(settings.end).date() if settings.end else None
    for col in outcome_cols:
        missing = int(assignment[col].isna().sum())
        if missing:
            # A missing outcome is read as "no purchase": said in the data-quality appendix.
            add_issue(quality, "experiment", QualityIssue("missing_value", source.column(col), missing, "set_zero"))
    if customers is not None:
        unknown = int((~assignment["customer_id"].isin(customers["id"])).sum())
        if unknown:
            add_issue(quality, "experiment", QualityIssue("unknown_customer", source.column("customer_id"),
                                                          unknown, "kept"))
    engine.register("exp_assigned", assignment[["customer_id", "grp", *outcome_cols]])
    window = (start, end) if has_tx and start and end else None
    pre_period_days = experiment_outcomes(engine, "exp_assigned", window)
    units, cap = cap_revenue(engine, "exp_units", settings.cap_revenue)
    clusters, rfm_labels = pre_campaign_segments(
        engine, customers, start, cluster_model, with_rfm, config.segments.rfm_rules if config.segments else ()) \
        if has_tx and start else (None, None)
    segment_map = {}
    for dim in settings.segment_by:
        if dim == "cluster" and clusters is not None:
            segment_map["cluster"] = clusters.map(cluster_names)
        elif dim == "rfm" and rfm_labels is not None:
            segment_map["rfm"] = rfm_labels
        elif customers is not None and dim in customers:
            segment_map[dim] = customers.set_index("id")[dim]
        else:
            notes.append(("segment_by_unavailable", dim))
    labels = segment_labels(segment_map)
    if labels is not None:
        engine.register("exp_labels", labels)
    sums = experiment_sums(engine, units, "exp_labels" if labels is not None else None)
    # The engine holds a registered frame for as long as it is registered: the segment labels (customers ×
    # dimensions, 1.5 GB of text at a million customers) and the assignment are not read again.
    for name in ("exp_labels", "_exp_tx", "exp_assigned"):
        engine.release(name)
    del labels
    observational: tuple[ObservationalEffect, ...] = ()
    if settings.observational is not None and has_tx:
        daily = daily_series(engine, settings.observational.city)
        observational = estimate_promo_days(daily, settings.observational, settings.confidence)
    elif settings.observational is not None:
        notes.append(("observational_needs_transactions", settings.observational.name))
    excluded = sum(i.count for q in quality if q.name == "experiment" for i in q.issues
                   if i.kind == "customer_in_several_groups")
    window_has_data, look = True, None
    if window is not None:
        start, end = window
        window_has_data = engine.scalar(f"SELECT count(*) FROM tx WHERE date BETWEEN DATE '{start:%Y-%m-%d}' "
                                        f"AND DATE '{end:%Y-%m-%d}'") > 0
        # An extract that ends inside the window is an interim look: the day its data reach.
        last = engine.scalar("SELECT max(date) FROM tx")
        days = (end - start).days + 1
        look = Look(day=max(1, min((pd.Timestamp(last).date() - start).days + 1, days)), days=days)
    covariate = source.column("pre_revenue") if "pre_revenue" in outcome_cols else \
        ("pre_period" if pre_period_days else "")
    sequential, reason = choose_inference(settings.sequential, look, earlier_looks)
    result = analyze_experiment(sums, dataclasses.replace(settings, sequential=sequential), control, excluded,
                                observational, pre_period_days=pre_period_days, window_has_data=window_has_data,
                                covariate=covariate or "", not_compared=not_compared, look=look,
                                revenue_cap=cap)
    base = len(customers) if customers is not None else sum(g.n for g in result.groups)
    return dataclasses.replace(result, plans=plan_next_test(result, settings.min_effect, settings.power, base),
                               hypothesis=segment_hypothesis(result, settings.power), inference_reason=reason,
                               earlier_looks=earlier_looks)


def choose_inference(setting: bool | str, look: Look | None, earlier_looks: int) -> tuple[bool, str]:
    """Whether the readout uses the confidence sequence, and why. A test read once, after its window, is
    validly read with the fixed-horizon test, which detects 1/1.3 of the effect the sequence can; every read
    before the end (now or earlier, as the ledger remembers) needs the sequence for the verdict to hold."""
    if setting is True or setting is False:
        return setting, "configured"
    if look is None:
        return False, "no_window"
    if look.interim:
        return True, "interim"
    if earlier_looks > 0:
        return True, "earlier_looks"
    return False, "read_once"
