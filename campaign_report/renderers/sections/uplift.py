"""The uplift section: whom to contact next time, learned from the campaign's own test."""

from __future__ import annotations

import math

from campaign_report.analysis.results import Results
from campaign_report.analysis.uplift.result import UpliftArm, UpliftDecision
from campaign_report.renderers.charts import ChartSpec, Series
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Section, Summary, Table
from campaign_report.renderers.wording import group_name


def _effect(f: Formatter, outcome: str, x: float | None, digits: int | None = None) -> str:
    """An incremental outcome per customer: percentage points of conversion, money, or orders."""
    if outcome == "conversion":
        return f.pp(x, 2 if digits else 1)
    if outcome == "revenue":
        return f.money(x, digits=digits, sign=True)
    return f.number(x, 3, sign=True)


def _scale(outcome: str) -> float:
    return 100.0 if outcome == "conversion" else 1.0


def _total(f: Formatter, outcome: str, x: float) -> str:
    """An incremental total over the customers in scope: conversions, money or orders."""
    if outcome == "revenue":
        return f.money_short(x, sign=True)
    return f.t("uplift.units", n=f.number(x, 0, sign=True), unit=f.t(f"uplift.unit_{outcome}"))


def _not_worth(f: Formatter, d: UpliftDecision) -> str:
    """Why a top share that looked more profitable was not chosen, if one did."""
    if d.best_share in (0.0, 1.0):
        return ""
    low, high = d.targeting_gain_ci
    return " " + f.t("uplift.not_worth", share=f.percent(d.best_share, 0),
                     gain=f.money_short(abs(d.targeting_gain)),  # "на X больше": the word carries the sign
                     low=f.money_short(low, sign=True), high=f.money_short(high, sign=True))


def chosen_profit(f: Formatter, d: UpliftDecision) -> str:
    """The decision's profit as the documents state it: for a chosen top share, measured on customers the
    choice did not see, with its interval (read off the curve it was chosen on, it would be flattered)."""
    if d.rule == "top_share" and math.isfinite(d.honest_profit):
        low, high = d.honest_profit_ci
        return f"{f.money_short(d.honest_profit, sign=True)} ({f.money_short(low, sign=True, like=d.honest_profit)} " \
               f"… {f.money_short(high, sign=True, like=d.honest_profit)})"
    return f.money_short(d.profit, sign=True)


def gain_word(f: Formatter, d: UpliftDecision) -> str:
    """What the decision maximises: profit when a margin is stated, else revenue net of contact costs."""
    return f.t("uplift.gain_profit" if d.margin_stated else "uplift.gain_revenue")


def curve_end(f: Formatter, arm: UpliftArm, cuped: bool) -> str:
    """Where the gain curve ends, when that is not the average effect printed beside it: the curve's last point is
    the plain difference of the groups' means, the readout's effect is adjusted (CUPED), and a reader saw two
    figures for one effect (demo: 834 ₽ at 100 % against +787 ₽)."""
    if arm.decision.everyone_basis == "curve" or not arm.curve:
        return ""
    end, average = _effect(f, arm.outcome, arm.curve[-1].gain), _effect(f, arm.outcome, arm.average_effect)
    if end == average:
        return ""
    return f.t("uplift.curve_end", end=end, average=average,
               why=f.t("uplift.curve_end_cuped" if cuped else "uplift.curve_end_adjusted"))


def _arm_lines(f: Formatter, arm: UpliftArm, arm_name: str, population: str, cuped: bool,
               ) -> tuple[list[str], str]:
    """Paragraphs and the deck headline of one arm."""
    d, c = arm.decision, arm.comparison
    # The average is the readout's own estimate when the analysis anchored it there, else the plain difference.
    plain = d.everyone_basis == "curve"
    average = f.t("uplift.average_curve" if plain else "uplift.average_experiment",
                  average=_effect(f, arm.outcome, arm.average_effect),
                  cuped=f.t("uplift.learned_cuped") if cuped else "")
    out = [" ".join(t for t in (
        f.t("uplift.learned", arm=arm_name, treated=f.plural(arm.n_treatment, "customer"),
            control=f.integer(arm.n_control), outcome=f.t(f"uplift.outcome_{arm.outcome}"),
            features=f.plural(len(arm.features), "feature"), average=average), curve_end(f, arm, cuped)) if t)]
    out.append(f.t(f"uplift.why_{arm.why}", model=f.t(f"uplift_model.{arm.model}"),
                   runner=f.t(f"uplift_model.{arm.runner_up}")))
    # The measured uplift among the chosen model's top 30 % comes from the analysis (no arithmetic here).
    top30 = next(c.top30 for c in arm.candidates if c.model == arm.model)
    if arm.heterogeneous:
        out.append(f.t("uplift.differs", top=_effect(f, arm.outcome, top30),
                       average=_effect(f, arm.outcome, arm.average_effect),
                       plain=f.t("uplift.differs_plain") if plain and cuped else ""))
    else:
        out.append(f.t("uplift.no_difference"))
    money = f.money_short(d.incremental_money, sign=True)
    in_money = "_money" if arm.outcome == "revenue" else ""  # revenue: the extra outcome is the money itself
    if d.rule == "top_share":
        out.append(f.t("uplift.decide_top" + in_money, share=f.percent(d.contact_share, 0),
                       contacts=f.plural(d.contacts, "customer"), population=population,
                       incremental=_total(f, arm.outcome, d.incremental), money=money,
                       profit=chosen_profit(f, d), everyone=f.money_short(d.everyone_profit, sign=True),
                       gain=gain_word(f, d),
                       saved=f.integer(d.contacts_saved)))
        headline = f.t("uplift.headline_top", share=f.percent(d.contact_share, 0),
                       captured=f.percent(c.uplift_captured, 0))
    elif d.rule == "everyone":
        out.append(f.t("uplift.decide_everyone" + in_money, population=population,
                       incremental=_total(f, arm.outcome, d.incremental), money=money,
                       profit=f.money_short(d.profit, sign=True), gain=gain_word(f, d)) + _not_worth(f, d))
        headline = f.t("uplift.headline_everyone" if not arm.heterogeneous else "uplift.headline_everyone_pays")
    elif d.rule == "unproven":
        out.append(f.t("uplift.decide_unproven", everyone=f.money_short(d.everyone_profit, sign=True),
                       low=f.money_short(d.everyone_profit_ci[0], sign=True),
                       high=f.money_short(d.everyone_profit_ci[1], sign=True), gain=gain_word(f, d)))
        headline = f.t("uplift.headline_unproven")
    else:
        out.append(f.t("uplift.decide_no_one", everyone=f.money_short(d.everyone_profit, sign=True),
                       gain=gain_word(f, d)) +
                   _not_worth(f, d))
        headline = f.t("uplift.headline_no_one")
    out.append(f.t("uplift.economics" if d.margin_stated else "uplift.economics_no_margin",
                   cost=f.money(d.cost_per_contact), margin=f.percent(d.margin, 0)) +
               (" " + f.t("uplift.value_per_conversion", value=f.money(d.value_per_conversion))
                if d.value_per_conversion is not None else ""))
    if d.rule == "top_share" and math.isfinite(d.honest_profit):
        out.append(f.t("uplift.honest_note"))
    if arm.average_effect > 0:  # a share of a negative or null effect means nothing
        out.append(f.t("uplift.compare", share=f.percent(c.share, 0), basis=f.t(f"uplift.basis_{c.basis}"),
                       propensity=f.percent(c.propensity_captured, 0), uplift=f.percent(c.uplift_captured, 0)))
    # The answer first (who responds, whom to contact), then how it was learned: the deck's bullets are
    # the first two paragraphs.
    return out[2:] + out[:2], headline


def uplift_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Candidates, the uplift-gain curve with its band, deciles, the decision and the list."""
    u = results.uplift
    assert u is not None
    names = results.meta.names
    sec = Section("uplift", f.t("uplift.title"))
    arm_name = f.quote(group_name(f, names, u.treatment))
    lst = u.list
    population = (lst.score_filter_name or f.t("uplift.filtered")) if lst is not None and lst.score_filter else \
        f.t("uplift.all_customers")
    cuped = bool(results.experiment and results.experiment.cuped)
    paragraphs, headline = _arm_lines(f, u, arm_name, population, cuped)
    sec.paragraphs += paragraphs
    sec.headline = headline
    for arm in u.arms:
        if arm.learned_from:
            sec.analyst.append(f.t("uplift.sampled", arm=f.quote(group_name(f, names, arm.treatment)),
                                   sample=f.integer(arm.n_treatment + arm.n_control),
                                   total=f.plural(arm.learned_from, "customer_of")))
    for other in u.arms:
        if other.treatment != u.treatment:
            sec.paragraphs.append(f.t("uplift.other_arm", arm=f.quote(group_name(f, names, other.treatment)),
                                      model=f.t(f"uplift_model.{other.model}"),
                                      verdict=f.t("uplift.other_differs" if other.heterogeneous else
                                                  "uplift.other_same"),
                                      profit=f.money_short(other.decision.profit, sign=True),
                                      gain=gain_word(f, other.decision)))
    if lst is not None:
        sec.paragraphs.append(f.t("uplift.list", customers=f.plural(lst.size, "customer"), population=population,
                                  contact=f.integer(lst.contact)))
    unit = f.t(f"uplift.axis_{u.outcome}", currency=f.currency)
    scale = _scale(u.outcome)
    # Every other point of the 5 % grid: ten readable labels on the category axis.
    curve = [p for p in u.curve if round(p.share * 100) % 10 == 0]
    shares = tuple(f.percent(p.share, 0) for p in curve)
    basis = f.t(f"uplift.basis_short_{u.comparison.basis}")
    sec.charts.append(ChartSpec(
        "uplift_gain", "line", f.t("uplift.curve_chart", arm=arm_name), unit, shares,
        (Series(f.t("uplift.series_model", model=f.t(f"uplift_model.{u.model}")),
                tuple(p.gain * scale for p in curve), tuple((p.gain - p.low) * scale for p in curve),
                tuple((p.high - p.gain) * scale for p in curve)),
         Series(basis, tuple(p.propensity * scale for p in curve)),
         Series(f.t("uplift.series_random"), tuple(p.random * scale for p in curve))),
        source, category_title=f.t("uplift.curve_x"), decimals=2 if u.outcome == "conversion" else 0,
        decimal_mark=f.decimal))
    sec.headlines["uplift_gain"] = headline
    deciles = [d for d in u.deciles]
    sec.charts.append(ChartSpec(
        "uplift_deciles", "column", f.t("uplift.decile_chart"), unit, tuple(str(d.decile) for d in deciles),
        (Series(f.t("uplift.series_measured"), tuple(d.uplift * scale for d in deciles),
                tuple((d.uplift - d.ci_low) * scale for d in deciles),
                tuple((d.ci_high - d.uplift) * scale for d in deciles),
                # Deciles that do not differ take one colour: greying some would draw a pattern the title denies.
                muted=tuple(u.heterogeneous and d.ci_low <= 0 <= d.ci_high for d in deciles)),),
        source, category_title=f.t("uplift.decile_x"), decimals=1 if u.outcome == "conversion" else 0,
        decimal_mark=f.decimal))
    # A finding only when there is one: without a Qini interval clear of zero the deciles do not differ.
    # Nor is a decile whose own interval holds zero: it is said to be indistinguishable from no effect.
    top_clear, bottom_clear = (d.ci_low > 0 or d.ci_high < 0 for d in (deciles[0], deciles[-1]))
    key = "uplift.headline_deciles_same" if not u.heterogeneous else "uplift.headline_deciles" \
        if top_clear and bottom_clear else "uplift.headline_deciles_top" if top_clear else \
        "uplift.headline_deciles_order"
    # Conversion is said in percentage points (the chart: extra conversions per 100 customers), money per customer.
    per = "" if u.outcome == "conversion" else f.t("uplift.per_customer")
    sec.headlines["uplift_deciles"] = f.t(key, top=_effect(f, u.outcome, deciles[0].uplift),
                                          bottom=_effect(f, u.outcome, deciles[-1].uplift), per=per)
    level = f.percent(u.confidence, 0)
    # One precision for the whole table: cents when any amount is below 10 units, as everywhere in the documents.
    amounts = [abs(v) for c in u.candidates for v in (c.qini, *c.qini_ci, c.top30)]
    digits = f.money_digits(*amounts) if u.outcome == "revenue" else 2
    sec.tables.append(Table(
        title=f.t("uplift.decision_table"), header=[f.t("uplift.col_rule"), f.t("uplift.col_contacts"),
                                                    f.t("uplift.col_incremental"),
                                                    f.t("uplift.col_gain_" + ("profit" if u.decision.margin_stated
                                                                               else "revenue"))],
        rows=([[f.t("uplift.row_choice", share=f.percent(u.decision.contact_share, 0)),
                f.integer(u.decision.contacts), _total(f, u.outcome, u.decision.incremental),
                chosen_profit(f, u.decision)]] if u.decision.rule == "top_share" else
              [[f.t("uplift.row_no_one"), "0", _total(f, u.outcome, 0.0), f.money_short(0.0)]]
              if u.decision.rule == "no_one" else []) +
             [[f.t("uplift.row_everyone"), f.integer(u.decision.population),
               _total(f, u.outcome, u.decision.everyone_incremental),
               f.money_short(u.decision.everyone_profit, sign=True)]],
        # No deck headline: two rows would leave a slide half empty; the deck states the decision beside the curve.
        numeric=[1, 2, 3]))
    sec.tables.append(Table(
        title=f.t("uplift.models_table"), header=[f.t("uplift.col_model"), f.t("uplift.col_qini"),
                                                  f.t("uplift.col_qini_ci", level=level), f.t("uplift.col_top30")],
        rows=[[f.t(f"uplift_model.{c.model}") + (f" ({f.t('doc.chosen')})" if c.model == u.model else ""),
               _effect(f, u.outcome, c.qini, digits), f"{_effect(f, u.outcome, c.qini_ci[0], digits)} … "
               f"{_effect(f, u.outcome, c.qini_ci[1], digits)}", _effect(f, u.outcome, c.top30, digits)]
              for c in sorted(u.candidates, key=lambda c: -c.qini)],
        numeric=[1, 2, 3], note=f.t("uplift.models_note"), headline=_models_headline(f, u), appendix=True))
    # The deck: beside the curve the decision and what propensity targeting would capture; beside the deciles
    # whether customers respond differently (_arm_lines: differs, decision, economics, [compare], learned, why).
    sec.so_what["uplift_gain"] = [paragraphs[1], *(paragraphs[3:4] if u.average_effect > 0 else []),
                                  *filter(None, [curve_end(f, u, cuped)])]
    sec.so_what["uplift_deciles"] = [paragraphs[0]]
    d = u.decision
    # What the forecast money rests on, beside it: a director who reads only the summary sees the margin and the
    # contact's cost (the brief's methods were the only place that said them).
    basis = ", ".join(([f.t("uplift.basis_margin", margin=f.percent(d.margin, 0))] if d.margin_stated else [])
                      + ([f.t("uplift.basis_cost", cost=f.money(d.cost_per_contact))] if d.cost_per_contact > 0
                         else []))
    summary.whom_next = f.t(f"uplift.page1_{d.rule}", basis=f"; {basis}" if basis else "",
                            share=f.percent(d.contact_share, 0),
                            contacts=f.plural(d.contacts, "customer"), profit=chosen_profit(f, d),
                            everyone=f.money_short(d.everyone_profit, sign=True), saved=f.integer(d.contacts_saved),
                            low=f.money_short(d.everyone_profit_ci[0], sign=True, like=d.everyone_profit),
                            high=f.money_short(d.everyone_profit_ci[1], sign=True, like=d.everyone_profit),
                            gain=gain_word(f, d), customers=f.plural(d.population, "customer"),
                            arm=arm_name,
                            tested=f.plural(u.learned_from or u.n_treatment + u.n_control, "customer_prep")) + \
        ("" if u.heterogeneous else " " + f.t("uplift.page1_no_difference"))
    decided = results.experiment.decision.treatment if results.experiment is not None else None
    # What acting on the decision is worth, short enough for a title: said of the arm the decision is about.
    if d.rule in ("everyone", "top_share") and u.treatment == decided:
        worth = d.honest_profit if d.rule == "top_share" and math.isfinite(d.honest_profit) else d.profit
        summary.worth = f.t(f"uplift.worth_{d.rule}_{'profit' if d.margin_stated else 'revenue'}",
                            share=f.percent(d.contact_share, 0), profit=f.money_short(worth, sign=True))
    sec.notes = f.t("methods.uplift", sources=_sources(f, results), left_out=_left_out(f, results),
                    objective=f.t("methods.uplift_objective_" + ("profit" if d.margin_stated else "revenue")))
    return sec


def _models_headline(f: Formatter, u: UpliftArm) -> str:
    """The models table's finding: the kept model, and whether its Qini interval clears zero and the others'."""
    kept = next((c for c in u.candidates if c.model == u.model), None)
    if kept is None:
        return f.t("uplift.models_headline")
    rivals = [c for c in u.candidates if c.model != u.model and c.qini_ci[1] >= kept.qini_ci[0]]
    key = "uplift.models_headline_noise" if kept.qini_ci[0] <= 0 else \
        "uplift.models_headline_tied" if rivals else "uplift.models_headline_best"
    return f.t(key, model=f.t(f"uplift_model.{kept.model}"), n=f.plural(len(rivals), "model_gen"))


def _sources(f: Formatter, results: Results) -> str:
    """What the uplift models learned from, as the data hold it: purchases before the campaign, customer columns."""
    m = results.meaning
    return ", ".join(f.t(f"methods.uplift_source_{k}") for k, present in
                     (("purchases", m.transactions), ("traits", bool(m.customer_traits))) if present)


def _left_out(f: Formatter, results: Results) -> str:
    """What was kept from the uplift models because it is known only after the campaign, when the data have it."""
    m = results.meaning
    items = [f.t(f"methods.uplift_left_{k}") for k, present in
             (("label", m.label is not None and m.label.source == "label"), ("profit", bool(m.money.profit_column)))
             if present]
    if not items:
        return ""
    excluded = "methods.uplift_excluded" if len(items) > 1 else "methods.uplift_excluded_one"
    return f.t("methods.uplift_left", what=f.t(excluded, items=f.t("methods.uplift_and").join(items)))
