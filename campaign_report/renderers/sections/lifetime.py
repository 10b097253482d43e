"""The lifetime section: what customers are worth from purchases alone, and who of value is slipping away."""

from __future__ import annotations

from campaign_report.analysis.customers.lifetime import LifetimeResult
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series, percent_points
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.sections.appendix import acquisition_text
from campaign_report.renderers.view_model import ActOn, Caveat, Finding, KeyNumber, Section, Summary, Table
from campaign_report.renderers.wording import cluster_names, segment_name


def _money_word(f: Formatter, life: LifetimeResult) -> str:
    return f.t(f"lifetime.money_{life.value_basis}")


def _horizon(f: Formatter, life: LifetimeResult) -> str:
    return f.t("lifetime.horizon_year") if life.horizon_days == 365 else f.plural(life.horizon_days, "day")


def lifetime_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Value per segment, the slipping-away list, and the checks that say whether to trust them."""
    life = results.lifetime
    assert life is not None
    sec = Section("lifetime", f.t("lifetime.title"))
    h = life.holdout
    values = dict(value=f.money_short(life.expected_value), money=_money_word(f, life), horizon=_horizon(f, life),
                  cut=f.date(h.calibration_end), weeks=f.plural(h.weeks, "week"),
                  forecast=f.integer(h.forecast_total), actual=f.integer(h.actual_total),
                  error=f.percent(h.error, 0, sign=True), auc=f.number(h.ranking_auc, 2),
                  scale=f.number(life.value_scale, 2), margin=f.percent(life.margin, 0) if life.margin else "",
                  rho=f.number(life.spend_check.spearman, 2), customers=f.plural(life.customers, "customer"),
                  repeat=f.integer(life.repeat_customers))
    sec.paragraphs.append(f.t("lifetime.model", **values))
    stop = results.meaning.acquisition_stop
    if stop is not None:  # a cohort is context; new orders on old ids would be returns that never happened
        (sec.warnings if stop.kind == "stopped" else sec.paragraphs).append(acquisition_text(f, stop, short=True))
    sec.paragraphs.append(f.t("lifetime.holdout", **values))
    if not life.fits:
        sec.warnings.append(f.t("lifetime.no_fit", **values))
        sec.headline = f.t("lifetime.headline_no_fit", **values)
    elif life.value_scale != 1.0:
        sec.paragraphs.append(f.t("lifetime.scaled", **values))
        summary.caveats.append(Caveat(f.t("lifetime.caveat_scaled", **values), source="lifetime"))
    sec.paragraphs.append(f.t("lifetime.spend_gg" if life.spend_check.gamma_gamma else "lifetime.spend_own", **values))
    sec.paragraphs.append(f.t(f"lifetime.basis_{life.value_basis}", **values))
    sec.paragraphs.append(f.t("lifetime.cannot_see"))
    slip = life.slipping
    if life.fits:
        if slip is not None and slip.size:
            slip_values = dict(size=f.plural(slip.size, "customer"), valuable=f.plural(slip.size, "valuable_customer"),
                               candidates=f.integer(slip.candidates),
                               cut=f.number(slip.p_alive_cut, 2), stake=f.money_short(slip.yearly_value_at_stake),
                               money=_money_word(f, life))
            sec.paragraphs.append(f.t("lifetime.slipping", **slip_values))
            sec.headline = f.t("lifetime.headline", **{**values, **slip_values})
            if results.propensity is None:  # no label: the slipping-away list is whom to act on
                summary.act_on.append(ActOn(title=f.t("lifetime.act_on_title"), text=f.t("lifetime.act_on",
                                                                                          **slip_values)))
                summary.key_numbers.append(KeyNumber(label=f.t("lifetime.kpi_slipping"), value=f.integer(slip.size),
                                                     detail=f.t("lifetime.kpi_slipping_detail", **slip_values),
                                                     significant=True, source="lifetime"))
        else:
            sec.headline = f.t("lifetime.headline_value", **values)
        summary.findings.append(Finding(label=f.t("lifetime.finding_label"), sentence=sec.headline + ".",
                                        source="lifetime", stake=slip is not None and bool(slip.size)))
        summary.spare_numbers.append(KeyNumber(label=f.t("lifetime.kpi_value", horizon=_horizon(f, life)),
                                               value=f.money_short(life.expected_value),
                                               detail=f.t(f"lifetime.basis_short_{life.value_basis}", **values),
                                               significant=True, source="lifetime"))
    if life.fits:  # a model that failed its check values no segment and has no parameters worth reading
        _segment_tables(f, results, life, sec, source)
    _checks(f, life, sec, source, values)
    sec.notes = f.t("lifetime.notes", spend=f.t("lifetime.notes_spend_gg" if life.gamma_gamma
                                                else "lifetime.notes_spend_own"))
    return sec


def _segment_tables(f: Formatter, results: Results, life: LifetimeResult, sec: Section, source: str) -> None:
    names = cluster_names(f, results)
    for kind in ("cluster", "rfm"):
        rows = [s for s in life.segments if s.kind == kind]
        if not rows:
            continue
        label = (lambda s: names.get(s.key, s.key)) if kind == "cluster" else (lambda s: segment_name(f, "rfm", s.key))
        sec.tables.append(Table(title=f.t(f"lifetime.table_{kind}", horizon=_horizon(f, life)), header=[
            f.t("lifetime.col_segment"), f.t("lifetime.col_customers"), f.t("lifetime.col_value"),
            f.t("lifetime.col_share"), f.t("lifetime.col_alive")],
            rows=[[label(s), f.integer(s.customers), f.money_short(s.expected_value), f.percent(s.value_share, 0),
                   f.number(s.p_alive_mean, 2)] for s in rows],
            numeric=[1, 2, 3, 4], note=f.t(f"lifetime.basis_short_{life.value_basis}",
                                            margin=f.percent(life.margin, 0) if life.margin else "")))
        if kind == "cluster" and life.fits:
            total = sum(s.customers for s in rows)
            sec.charts.append(ChartSpec(
                "segment_value", "bar", f.t("lifetime.value_chart", horizon=_horizon(f, life)),
                f.t("lifetime.share_unit"), tuple(label(s) for s in rows),
                (Series(f.t("lifetime.series_customers"), percent_points([s.customers / total for s in rows])),
                 Series(f.t("lifetime.series_value"), percent_points([s.value_share for s in rows]))),
                source, decimals=0, decimal_mark=f.decimal, shades=True))  # grey means "not beyond noise": not here
            top = rows[0]
            sec.headlines["segment_value"] = f.t("lifetime.headline_segment", name=label(top),
                                                 share=f.percent(top.value_share, 0),
                                                 customers=f.percent(top.customers / total, 0))


def _digits(value: float) -> int:
    """Three significant figures for small parameters, none past the decimal point for large ones."""
    return 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0


def _checks(f: Formatter, life: LifetimeResult, sec: Section, source: str, values: dict[str, str]) -> None:
    h = life.holdout
    step = max(1, len(h.weekly) // 13)
    weekly = [w for w in h.weekly if (w[0] - 1) % step == 0 or w[0] == len(h.weekly)]
    sec.charts.append(ChartSpec(
        "holdout", "line", f.t("lifetime.holdout_chart", cut=values["cut"]), f.t("lifetime.holdout_unit"),
        tuple(str(w[0]) for w in weekly),
        (Series(f.t("lifetime.series_forecast"), tuple(w[1] for w in weekly)),
         Series(f.t("lifetime.series_actual"), tuple(w[2] for w in weekly))),
        source, category_title=f.t("lifetime.holdout_x"), decimals=0, decimal_mark=f.decimal))
    # The check's title says what it found: the model fits, was scaled to the facts, or does not fit.
    sec.headlines["holdout"] = f.t("lifetime.headline_holdout_no_fit" if not life.fits else
                                   "lifetime.headline_holdout_scaled" if life.value_scale != 1.0 else
                                   "lifetime.headline_holdout", **values)
    sec.so_what["holdout"] = [sec.paragraphs[1]]
    fc = life.frequency_check
    sec.charts.append(ChartSpec(
        "frequency_fit", "column", f.t("lifetime.frequency_chart"), f.t("lifetime.frequency_unit"),
        tuple(c[0] for c in fc.counts),
        (Series(f.t("lifetime.series_expected"), tuple(c[1] for c in fc.counts)),
         Series(f.t("lifetime.series_observed"), tuple(float(c[2]) for c in fc.counts))),
        source, category_title=f.t("lifetime.frequency_x"), decimals=0, decimal_mark=f.decimal))
    sec.headlines["frequency_fit"] = f.t("lifetime.headline_frequency", error=f.percent(fc.mean_share_error, 1))
    sec.chart_methods["frequency_fit"] = f.t("lifetime.method_frequency")
    sec.diagnostics += ["holdout", "frequency_fit"] if not life.fits else ["frequency_fit"]
    if not life.fits:
        return
    params = [*life.bgnbd, *life.gamma_gamma]
    sec.tables.append(Table(title=f.t("lifetime.params_title"), header=[
        f.t("lifetime.col_param"), f.t("lifetime.col_estimate"), f.t("lifetime.col_interval")],
        rows=[[f.t(f"lifetime.param_{p.name}"), f.number(p.value, _digits(p.value)),
               f.t("lifetime.at_bound") if p.at_bound else
               f"{f.number(p.ci_low, _digits(p.value))} … {f.number(p.ci_high, _digits(p.value))}"] for p in params],
        numeric=[1, 2], note=f.t("lifetime.params_note", gamma_gamma=f.t("lifetime.params_gg") if life.gamma_gamma
                                 else ""), headline=f.t("lifetime.params_title"), appendix=True))
