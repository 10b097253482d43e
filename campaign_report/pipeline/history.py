"""`campaign-report history`: the campaigns of an output folder as a table on the console, or as CSV."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from campaign_report.analysis.config import Config
from campaign_report.analysis.history.result import CampaignEntry
from campaign_report.pipeline.campaigns import earlier_campaigns, rebuild
from campaign_report.renderers.exports import spreadsheet_safe
from campaign_report.renderers.format import Formatter


def history_frame(entries: tuple[CampaignEntry, ...]) -> pd.DataFrame:
    """One row per campaign: the lead arm's primary lift and interval, the verdict and the money, as numbers."""
    rows = []
    for e in entries:
        lead = e.lead_arm
        rows.append({"campaign": e.name, "start": e.start, "end": e.end, "primary": e.primary, "arm": e.lead,
                     "arms": len(e.arms), "n_control": e.n_control, "contacts": e.contacts,
                     "rel_lift": lead.rel_lift, "rel_ci_low": lead.rel_ci_low, "rel_ci_high": lead.rel_ci_high,
                     "p_adjusted": lead.p_adjusted, "verdict": e.verdict, "interim": e.interim,
                     "extra_revenue": e.extra_revenue, "extra_profit": e.extra_profit,
                     "contact_cost": e.contact_cost, "uplift_qini": e.uplift_qini, "uplift_share": e.uplift_share,
                     "read": e.read})
    return pd.DataFrame(rows)


def show_history(config: Config, out_dir: Path | None, csv: Path | None, rebuild_store: bool,
                 console: Console) -> int:
    """Print the folder's campaigns (or write them as CSV), after rebuilding the store if asked."""
    target = Path(out_dir).resolve() if out_dir else config.output_dir
    if rebuild_store:
        found = rebuild(target)
        console.print(f"{target}: rebuilt the campaign history from the kept runs, {found} campaign(s)",
                      highlight=False)
    entries = earlier_campaigns(target)
    frame = history_frame(entries)
    if csv is not None:
        safe = frame.map(spreadsheet_safe) if len(frame) else frame
        safe.to_csv(csv, index=False, encoding="utf-8-sig")
        console.print(f"{escape(str(csv))}: {len(frame)} campaign(s)", highlight=False)
        return 0
    if not entries:
        console.print(f"{escape(str(target))}: no campaign recorded yet", highlight=False)
        return 0
    f = Formatter(config.report.language, config.report.currency)
    table = Table(title=f.t("history.table"))
    for column in ("col_campaign", "col_window", "col_lift", "col_verdict", "col_money_revenue", "col_money_profit"):
        table.add_column(f.t(f"history.{column}"), justify="right" if "money" in column else "left")
    for e in entries:
        lead = e.lead_arm
        table.add_row(escape(e.name), f"{f.date(e.start)} – {f.date(e.end)}" if e.start else "—",
                      f"{f.t(f'metric_short.{e.primary}')} {f.percent(lead.rel_lift, 1, sign=True)} "
                      f"({f.percent_range(lead.rel_ci_low, lead.rel_ci_high)})",
                      f.t(f"verdict.label_{e.verdict}") + (f" ({f.t('history.interim')})" if e.interim else ""),
                      *(f.money_short(x, sign=True) if math.isfinite(x) else "—"
                        for x in (e.extra_revenue, e.extra_profit)))
    console.print(table)
    return 0
