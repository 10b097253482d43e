"""The campaign history section: this campaign among the ones before it, and what they teach together.

Shown when the output folder holds at least two campaigns. Every number is read from Results.history: the
lifts are each run's own readout, the pooled segment lifts come from analysis/history/pooling.py.
"""

from __future__ import annotations

import math

from campaign_report.analysis.history.result import CampaignEntry, HistoryResult, PooledSegment
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series, percent_points
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Section, Table
from campaign_report.renderers.wording import dimension_name, group_name, lower_first, segment_name

MAX_POOLED_ROWS = 6


def _pooled_headline(f: Formatter, pooled: list[PooledSegment]) -> str:
    """The segments table's finding: a segment whose average response is clear of zero, else one that responded
    every time (said with the range, and that no average is clear), else that none did."""
    clear = [p for p in pooled if p.ci_low > 0]
    every = [p for p in pooled if p.campaigns > 1 and p.responded == p.campaigns]
    campaigns = max(p.campaigns for p in pooled)
    if clear:
        best = max(clear, key=lambda p: p.ci_low)
        return f.t("history.pooled_headline_clear", segment=f.quote(segment_name(f, best.dimension, best.segment)),
                   lift=f.percent(best.rel_lift, 1, sign=True), interval=f.percent_range(best.ci_low, best.ci_high))
    if every:
        best = max(every, key=lambda p: p.rel_lift)
        return f.t("history.pooled_headline_every", segment=f.quote(segment_name(f, best.dimension, best.segment)),
                   campaigns=f.plural(best.campaigns, "campaign_of"), lowest=f.percent(best.lowest, 1, sign=True),
                   highest=f.percent(best.highest, 1, sign=True))
    return f.t("history.pooled_headline_none", campaigns=f.plural(campaigns, "campaign_of"))


def campaign_label(f: Formatter, entry: CampaignEntry, history: HistoryResult) -> str:
    """The campaign's name, with its start date when two campaigns share a name."""
    twins = sum(c.name == entry.name for c in history.campaigns) > 1
    return f"{entry.name} ({f.date(entry.start)})" if twins and entry.start else entry.name


def _window(f: Formatter, entry: CampaignEntry) -> str:
    return f"{f.date(entry.start)} – {f.date(entry.end)}" if entry.start and entry.end else "—"


def _money(f: Formatter, value: float, sign: bool = True) -> str:
    return f.money_short(value, sign=sign) if math.isfinite(value) else f.t("history.no_money")


def money_basis(history: HistoryResult) -> str:
    """"profit" when every campaign stated a margin (extra revenue × margin − contact cost), else "revenue"."""
    return "profit" if all(math.isfinite(c.extra_profit) for c in history.campaigns) else "revenue"


def _cumulative(history: HistoryResult, basis: str) -> tuple[float, ...]:
    return history.cumulative_profit() if basis == "profit" else history.cumulative_revenue()


def _entry_money(entry: CampaignEntry, basis: str, currency: str) -> float:
    """The campaign's extra profit or revenue, when it is in this report's currency (else not shown)."""
    if entry.currency != currency:
        return math.nan
    return entry.extra_profit if basis == "profit" else entry.extra_revenue


def comparison_with_previous(f: Formatter, history: HistoryResult) -> str:
    """"+4,1 % против +1,2 % в «Летняя рассылка»": this campaign's lead lift next to the previous one's (the
    e-mail subject and the section's first line); empty when there is none or they measured different metrics."""
    previous = history.previous
    if previous is None or previous.primary != history.this.primary:
        return ""
    return f.t("history.versus_previous", lift=f.percent(history.this.lead_arm.rel_lift, 1, sign=True),
               previous_lift=f.percent(previous.lead_arm.rel_lift, 1, sign=True),
               previous=f.quote(campaign_label(f, previous, history)))


def previous_lift(f: Formatter, history: HistoryResult) -> str:
    """"в прошлый раз +13,0 %": the previous campaign's lead lift of the same metric (the e-mail subject); empty
    when there is none or it measured another metric."""
    previous = history.previous
    if previous is None or previous.primary != history.this.primary:
        return ""
    return f.t("history.previous_lift", lift=f.percent(previous.lead_arm.rel_lift, 1, sign=True))


def _pooled_sentence(f: Formatter, names: dict[str, str], p: PooledSegment) -> str:
    key = "history.pooled_gain" if p.consistent_gain else "history.pooled_none" if p.responded == 0 and \
        p.ci_low <= 0 <= p.ci_high else "history.pooled_mixed"
    sentence = f.t(key, segment=f.quote(segment_name(f, p.dimension, p.segment)),
                   dimension=lower_first(dimension_name(f, names, p.dimension)), responded=p.responded,
                   campaigns=f.plural(p.campaigns, "campaign_of"), lowest=f.percent(p.lowest, 1, sign=True),
                   highest=f.percent(p.highest, 1, sign=True))
    # "Every time" is the finding; the pooled mean comes after it, said to be imprecise when the campaigns' lifts
    # differ beyond chance (with 2-3 campaigns its interval may then cross zero although each campaign's did not).
    average = dict(lift=f.percent(p.rel_lift, 1, sign=True), interval=f.percent_range(p.ci_low, p.ci_high))
    return sentence + " " + (f.t("history.strength_varies", i2=f.percent(p.i2, 0), **average) if p.strength_varies
                             else f.t("history.pooled_average", **average))


def history_section(f: Formatter, results: Results, source: str) -> Section | None:
    """The history page and slide; None with fewer than two campaigns."""
    history = results.history
    if history is None or len(history.campaigns) < 2:
        return None
    names = results.meta.names
    this = history.this
    metric = f.t(f"metric_gen.{this.primary}")
    sec = Section("history", f.t("history.title"))
    n = len(history.campaigns)
    versus = comparison_with_previous(f, history)
    if history.comparable:
        leader = history.leader_per_customer
        # A rank by % is not a rank in money when the bases differ: the title then says both.
        split = leader.campaign_id != this.campaign_id and history.rank == 1 and history.one_currency
        sec.headline = f.t("history.headline_rank_split" if split else "history.headline_rank",
                           name=f.quote(campaign_label(f, this, history)), rank=history.rank,
                           campaigns=f.plural(n, "campaign_of"), metric=metric,
                           best=f.quote(campaign_label(f, leader, history)),
                           best_abs=f.metric_diff(leader.primary, leader.lead_arm.abs_diff),
                           this_abs=f.metric_diff(this.primary, this.lead_arm.abs_diff))
        arm = this.lead_arm.label or group_name(f, names, this.lead)
        sec.paragraphs.append(f.t("history.rank", name=f.quote(campaign_label(f, this, history)), rank=history.rank,
                                  campaigns=f.plural(n, "campaign_of"), metric=metric, arm=f.quote(arm))
                              + (" " + f.t("history.versus", versus=versus) if versus else "")
                              + (" " + f.t("history.rank_overlaps") if history.rank_overlaps else ""))
    else:
        sec.headline = f.t("history.headline_plain", campaigns=f.plural(n, "campaign"))
        sec.paragraphs.append(f.t("history.not_comparable"))
    basis = money_basis(history)
    cumulative = _cumulative(history, basis)
    currency = results.meta.currency
    if math.isfinite(cumulative[-1]):
        low, high = history.cumulative_interval(basis == "profit")
        sec.paragraphs.append(f.t(f"history.cumulative_{basis}", campaigns=f.plural(n, "campaign"),
                                  total=_money(f, cumulative[-1]), interval=f"{_money(f, low)} … {_money(f, high)}",
                                  this=_money(f, _entry_money(this, basis, currency)),
                                  contacts=f.plural(this.contacts, "customer_acc")))
    elif not history.one_currency:
        sec.paragraphs.append(f.t("history.cumulative_currencies"))
    elif any(math.isfinite(_entry_money(c, basis, currency)) for c in history.campaigns):
        sec.paragraphs.append(f.t("history.cumulative_partial"))
    if any(c.interim for c in history.campaigns):
        sec.paragraphs.append(f.t("history.interim_note"))
    gains = sorted((p for p in history.pooled if p.consistent_gain), key=lambda p: -p.rel_lift)
    for p in gains[:2]:
        sec.paragraphs.append(_pooled_sentence(f, names, p))
    # The segment that never responded, in the cut of the strongest responder (the contrast a manager acts on).
    never = [p for p in history.pooled if p.responded == 0 and gains and p.dimension == gains[0].dimension]
    if never:
        sec.paragraphs.append(_pooled_sentence(f, names, min(never, key=lambda p: p.rel_lift)))
    if history.pooled and not gains:
        sec.paragraphs.append(f.t("history.pooled_no_consistent"))

    if history.comparable:
        labels = tuple(campaign_label(f, c, history) + (f" ({f.t('history.this')})" if c.campaign_id == history.current
                                                        else "") for c in history.campaigns)
        leads = [c.lead_arm for c in history.campaigns]
        chart = ChartSpec("history_lift", "bar", f.t("history.chart", metric=metric),
                          f.t("experiment.lift_unit"), labels,
                          (Series(f.t("history.series"), percent_points([a.rel_lift for a in leads]),
                                  percent_points([a.rel_lift - a.rel_ci_low for a in leads]),
                                  percent_points([a.rel_ci_high - a.rel_lift for a in leads]),
                                  muted=tuple(not (a.rel_ci_low > 0 or a.rel_ci_high < 0) for a in leads)),),
                          source, decimal_mark=f.decimal)
        sec.charts.append(chart)
        sec.headlines["history_lift"] = sec.headline
        sec.so_what["history_lift"] = sec.paragraphs[1:3]

    header = [f.t("history.col_campaign"), f.t("history.col_window"), f.t("history.col_groups"),
              f.t("history.col_lift"), f.t("history.col_verdict"), f.t(f"history.col_money_{basis}"),
              f.t("history.col_cumulative")]
    rows = []
    # The last running total carries its interval (the note's "in brackets"), as the sentence above the table does.
    last_interval = ""
    if math.isfinite(cumulative[-1]):
        low, high = history.cumulative_interval(basis == "profit")
        if math.isfinite(low) and math.isfinite(high):
            last_interval = f" ({_money(f, low)} … {_money(f, high)})"
    for i, (entry, total) in enumerate(zip(history.campaigns, cumulative, strict=True)):
        lead = entry.lead_arm
        # Each campaign's groups as its own documents named them, not as this run's [report.names] would.
        arms = ", ".join(f"{a.label or group_name(f, {}, a.treatment)} {f.integer(a.n_treatment)}" for a in entry.arms)
        verdict = f.t(f"verdict.label_{entry.verdict}") + (f" ({f.t('history.interim')})" if entry.interim else "")
        rows.append([campaign_label(f, entry, history) + (" ◀" if entry.campaign_id == history.current else ""),
                     _window(f, entry), f"{f.t('history.control_short')} {f.integer(entry.n_control)}; {arms}",
                     f"{f.t(f'metric_short.{entry.primary}')} {f.percent(lead.rel_lift, 1, sign=True)} "
                     f"({f.percent_range(lead.rel_ci_low, lead.rel_ci_high)})",
                     verdict, _money(f, _entry_money(entry, basis, currency)),
                     _money(f, total) + (last_interval if i == len(cumulative) - 1 else "")])
    headline = f.t(f"history.table_headline_{basis}", campaigns=f.plural(n, "campaign"),
                   total=_money(f, cumulative[-1])) if math.isfinite(cumulative[-1]) else f.t("history.table")
    sec.tables.append(Table(title=f.t("history.table"), header=header, rows=rows, numeric=[5, 6],
                            note=f.t(f"history.table_note_{basis}"), headline=headline))
    if history.pooled:
        ordered = sorted(history.pooled, key=lambda p: (-p.responded / p.campaigns, -p.rel_lift))
        header = [f.t("experiment.col_dimension"), f.t("experiment.col_segment"), f.t("history.col_responded"),
                  f.t("history.col_pooled"), f.t("history.col_i2")]

        def row(p: PooledSegment) -> list[str]:
            return [dimension_name(f, names, p.dimension), segment_name(f, p.dimension, p.segment),
                    f"{p.responded} / {p.campaigns}",
                    f"{f.percent(p.rel_lift, 1, sign=True)} ({f.percent_range(p.ci_low, p.ci_high)})",
                    f.percent(p.i2, 0)]

        note = f.t("history.pooled_note", conf=f.percent(history.confidence, 0))
        if len(ordered) > MAX_POOLED_ROWS:
            sec.appendix_tables.append(Table(title=f.t("history.pooled_table_all"), header=header,
                                             rows=[row(p) for p in ordered], numeric=[2, 3, 4], note=note,
                                             headline=f.t("history.pooled_table_all"), appendix=True))
        sec.tables.append(Table(title=f.t("history.pooled_table"), header=header,
                                rows=[row(p) for p in ordered[:MAX_POOLED_ROWS]], numeric=[2, 3, 4], note=note,
                                headline=_pooled_headline(f, ordered), appendix=not gains))
    sec.notes = f.t("history.method", conf=f.percent(history.confidence, 0))
    return sec
