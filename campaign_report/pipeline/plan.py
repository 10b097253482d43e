"""`campaign-report plan`: the next test's size, from the variance this test measured (no documents written)."""

from __future__ import annotations

import dataclasses

from rich.console import Console
from rich.table import Table

from campaign_report.analysis.analyze import analyze
from campaign_report.analysis.config import Config
from campaign_report.analysis.errors import ConfigError
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.wording import group_name


def plan_next(config: Config, effect: float | None, console: Console) -> int:
    """Read the test out (the readout only: no segments, models or documents) and print, per arm, the customers
    per arm and the window needed to detect `effect` (default: [experiment] min_effect)."""
    if config.experiment is None or "experiment" not in config.tables:
        raise ConfigError("plan needs an A/B test: [data.experiment] (and [experiment])", config.shown_path)
    experiment = dataclasses.replace(config.experiment, segment_by=(), observational=None,
                                     min_effect=effect if effect is not None else config.experiment.min_effect)
    if not 0 < experiment.min_effect < 10:
        raise ConfigError("plan --effect must be a relative change such as 0.05 (5 %)", config.shown_path)
    readout_only = dataclasses.replace(config, experiment=experiment, segments=None, propensity=None,
                                       uplift=dataclasses.replace(config.uplift, enabled=False),
                                       lifetime=dataclasses.replace(config.lifetime, enabled=False))
    results = analyze(readout_only)
    exp = results.experiment
    assert exp is not None
    f = Formatter(config.report.language, config.report.currency)
    table = Table(title=f.t("plan.title", effect=f.percent(experiment.min_effect, 0),
                            metric=f.t(f"metric.{exp.primary}"), alpha=f.number(1 - exp.confidence, 2),
                            power=f.percent(experiment.power, 0)))
    for column in ("col_arm", "col_mde", "col_now", "col_needed", "col_base", "col_window", "col_days"):
        table.add_column(f.t(f"plan.{column}"), justify="left" if column == "col_arm" else "right")
    absent = f.t("plan.absent")
    for plan in exp.plans:
        table.add_row(group_name(f, results.meta.names, plan.treatment), f"±{f.percent(plan.mde_now, 1)}",
                      f.integer(plan.per_arm_now), f.integer(plan.per_arm),
                      f"±{f.percent(plan.mde_whole_base, 1)}" if plan.base else absent,
                      f.integer(plan.window_days) if plan.window_days else absent,
                      f.integer(plan.days) if plan.days is not None else absent)
    console.print(table)
    for plan in exp.plans:
        if not plan.feasible:
            console.print(f.t("plan.too_few", arm=group_name(f, results.meta.names, plan.treatment),
                              base=f.integer(plan.base), per_arm=f.plural(plan.per_arm, "customer")), highlight=False)
    console.print(f.t("plan.note", inference=f.t(f"plan.inference_{exp.inference}")), highlight=False)
    return 0
