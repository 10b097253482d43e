"""The appendix: data quality (with the run notes) and methods."""

from __future__ import annotations

from campaign_report.analysis.data.acquisition import AcquisitionStop
from campaign_report.analysis.data.clean import QualityIssue
from campaign_report.analysis.data.features import BRAND_PREFIX, CAT_PREFIX
from campaign_report.analysis.data.large_lines import MIN_REVENUE_SHARE, MIN_TIMES_MEDIAN, LargeLines
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series, percent_points
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Section, Table
from campaign_report.renderers.wording import feature_label, run_note_text, upper_first


def _issue_column(f: Formatter, names: dict[str, str], column: str | None) -> str:
    """The column as the documents name it ([report.names]; else as the file spells it, for finding it there);
    an issue without a column is about whole rows."""
    if column is None:
        return f.t("quality.whole_row")
    return names.get(column, column)

def quality_section(f: Formatter, results: Results) -> Section:
    """Data-quality appendix: rows in and out, every finding and what was done."""
    sec = Section("quality", f.t("quality.title"))
    stop = results.meaning.acquisition_stop
    if stop is not None:
        sec.warnings.append(acquisition_text(f, stop))
    large = results.meaning.large_lines
    if large is not None:
        sec.warnings.append(large_lines_text(f, large))
    for code, detail in results.meta.run_notes:
        sec.warnings.append(run_note_text(f, code, detail))
    sec.paragraphs.append(f.t("quality.rows") + ": " + "; ".join(
        f"{_table_name(f, q.name)} {f.integer(q.rows_in)} → {f.integer(q.rows_out)}"
        for q in results.data_quality) + ".")
    found = acquisition_values(f, stop) if stop is not None else {}
    found.update(min_share=f.percent(MIN_REVENUE_SHARE, 0), min_times=f.integer(MIN_TIMES_MEDIAN))
    rows = [[_table_name(f, q.name), f.t(f"issue.{i.kind}", **found) if i.kind in f.strings["issue"] else i.kind,
             _issue_column(f, results.meta.names, i.column), f.integer(i.count), _action(f, i)]
            for q in results.data_quality for i in q.issues]
    if rows:
        sec.tables.append(Table(title="", header=[f.t("quality.col_table"), f.t("quality.col_issue"),
                                                   f.t("quality.col_column"), f.t("quality.col_count"),
                                                   f.t("quality.col_action")], rows=rows, numeric=[3]))
    else:
        sec.paragraphs.append(f.t("quality.none"))
    return sec


def acquisition_values(f: Formatter, stop: AcquisitionStop) -> dict[str, str]:
    """The stop's dates and counts, formatted for the report's language."""
    return dict(first_date=f.date(stop.first_date), last_new=f.date(stop.last_new),
                after=f.date(stop.first_quiet_day),
                share=f.percent(stop.share_new_before, 0), orders=f.plural(stop.tail_orders, "order"),
                days=f.plural(stop.tail_days, "day"))


def acquisition_text(f: Formatter, stop: AcquisitionStop, short: bool = False) -> str:
    """What the stop in first-time buyers means, said where the figures that rest on it are."""
    key = "quality.acquisition_cohort" if stop.kind == "cohort" else \
        "quality.acquisition_stopped_short" if short else "quality.acquisition_stopped"
    return f.t(key, **acquisition_values(f, stop))


def large_lines_text(f: Formatter, found: LargeLines) -> str:
    """The order lines that each move every revenue share: what they are, and that they were kept."""
    top = found.lines[0]
    units = f.t("quality.large_line_units", quantity=f.number(top.quantity, 0), price=f.money(top.unit_price)) \
        if top.quantity is not None and top.unit_price is not None else ""
    values = dict(date=f.date(top.date), units=units, amount=f.money_short(top.amount),
                  times=f.integer(found.times_median), share=f.percent(found.revenue_share, 0),
                  lines=upper_first(f.plural(found.count, "order_line")))
    return f.t("quality.large_line_one" if found.count == 1 else "quality.large_line_many", **values)


def _table_name(f: Formatter, name: str) -> str:
    """A table by what it holds, in the report's language (the model's own screening by its role)."""
    return f.t(f"table_name.{name}") if name in f.strings.get("table_name", {}) else name


def _action(f: Formatter, issue: QualityIssue) -> str:
    """What was done, with the data behind it: outlier figures formatted in the report's language."""
    text = f.t(f"action.{issue.action}") if issue.action in f.strings["action"] else issue.action
    if issue.maximum is not None and issue.median is not None:
        return text + " (" + f.t("quality.outlier_detail", maximum=f.number(issue.maximum, 0),
                                 median=f.number(issue.median, 0)) + ")"
    return text + (f" ({issue.detail})" if issue.detail else "")


PLACEBO_BARS = 8


def placebo_chart(f: Formatter, results: Results, source: str) -> ChartSpec | None:
    """The banner estimate beside the strongest of the same model's estimates for days without the promo."""
    exp = results.experiment
    obs = next((o for o in exp.observational if o.outcome == "orders" and o.placebo_effects), None) if exp else None
    if obs is None:
        return None
    strongest = sorted(zip(obs.placebo_days, obs.placebo_effects, strict=True), key=lambda pair: -abs(pair[1]))
    bars = sorted([(f.t("experiment.obs_promo_day"), obs.rel_effect)] + [
        (f.t("experiment.placebo_shift", days=day) if day[0] in "+-" else f.t("experiment.placebo_day", day=day),
         effect) for day, effect in strongest[:PLACEBO_BARS]],
        key=lambda pair: pair[1], reverse=True)
    return ChartSpec("placebo", "bar", f.t("experiment.placebo_title", n=len(obs.placebo_effects)),
                     f.t("experiment.col_placebo_effect") + ", %", tuple(label for label, _ in bars),
                     (Series(f.t("experiment.col_placebo_effect"), percent_points([e for _, e in bars])),),
                     source, decimal_mark=f.decimal)


def placebo_headline(f: Formatter, results: Results) -> str:
    """The promo days' estimate against the range of the same model's estimates on days without the promo."""
    exp = results.experiment
    obs = next((o for o in exp.observational if o.outcome == "orders" and o.placebo_effects), None) if exp else None
    if obs is None:
        return ""
    low, high = min(obs.placebo_effects), max(obs.placebo_effects)
    beyond = not low <= obs.rel_effect <= high
    return f.t("experiment.placebo_headline" if beyond else "experiment.placebo_headline_within",
               name=f.quote(obs.name), effect=f.percent(obs.rel_effect, 1, sign=True), low=f.percent(low, 1, sign=True),
               high=f.percent(high, 1, sign=True), days=f.plural(len(obs.placebo_effects), "day"))


def reliability_chart(f: Formatter, results: Results, source: str) -> ChartSpec | None:
    """Predicted against observed rate per decile of the holdout's scores: on the diagonal, a probability
    means what it says."""
    p = results.propensity
    if p is None or not p.holdout.calibration:
        return None
    bins = p.holdout.calibration
    title = f.t("propensity.reliability_title", ece=f.percent(p.holdout.calibration_error, 1))
    return ChartSpec("reliability", "line", title, f.t("propensity.reliability_unit"),
                     # The deciles in order, evenly spaced: labelled by their mean prediction, the category axis
                     # spaced 8 %, 16 %, 23 % … alike and drew the prediction itself as an S-curve.
                     tuple(str(i) for i in range(1, len(bins) + 1)),
                     (Series(f.t("propensity.reliability_predicted"), percent_points([b[0] for b in bins])),
                      Series(f.t("propensity.reliability_observed"), percent_points([b[1] for b in bins]))),
                     source, category_title=f.t("propensity.reliability_axis"), decimals=0, decimal_mark=f.decimal)


def segment_features(f: Formatter, results: Results) -> str:
    """The clustering features in words, category and brand shares named once, as a group."""
    def family(name: str) -> str:
        if name.startswith(CAT_PREFIX):
            return f.t("feature.cat_shares")
        if name.startswith(BRAND_PREFIX):
            return f.t("feature.brand_shares")
        return feature_label(f, name)

    return ", ".join(dict.fromkeys(family(x) for x in results.segments.features)) if results.segments else ""


def experiment_methods(f: Formatter, results: Results) -> str:
    """How the test was read out, naming only the metrics that were."""
    exp = results.experiment
    assert exp is not None
    metrics = ", ".join(f.t(f"experiment_methods.{m}") for m in dict.fromkeys(x.metric for x in exp.metrics))
    return f.t("experiment_methods.intro", metrics=metrics) + " " + f.t("experiment_methods.rest")


def _settings_hints(f: Formatter, results: Results) -> list[str]:
    """What the config could state that the documents had to do without, and the keys that state it."""
    hints = []
    label = results.meaning.label
    if label is not None and label.source == "label" and label.positive_is == "neutral":
        hints.append(f.t("methods.hint_positive_is"))
    money = results.meaning.money
    shows_value = results.lifetime is not None or (results.propensity is not None and results.meaning.transactions)
    if money.value_basis == "revenue" and shows_value:
        hints.append(f.t("methods.hint_margin"))
    p = results.propensity
    if p is not None and p.warnings:
        hints.append(f.t("methods.hint_leak"))
    # The data's own words printed as they are: the outcome («column = value») and features known only by a
    # column name. [report.names] says them in the business's words everywhere at once.
    raw = [label.positive] if label is not None and label.source == "label" and label.positive not in f.names \
        else []
    if p is not None:
        raw += [i.feature for i in p.importance[:5] if "_" in i.feature
                and feature_label(f, i.feature) == i.feature.replace("_", " ")]
    if raw:
        hints.append(f.t("methods.hint_names", names=", ".join(dict.fromkeys(raw)),
                         example=f"{raw[0]} = \"…\""))
    return hints


def methods_section(f: Formatter, results: Results, source: str = "") -> Section:
    """Methods in plain words, only for the analyses that ran."""
    sec = Section("methods", f.t("methods.title"))
    ran = {"experiment": results.experiment, "cuped": results.experiment and results.experiment.cuped,
           "segments": results.segments, "propensity": results.propensity}
    features = segment_features(f, results)
    sec.paragraphs = [experiment_methods(f, results) if k == "experiment" else
                      f.t(f"methods.{k}", features=features) if k == "segments" else f.t(f"methods.{k}")
                      for k, present in ran.items() if present]
    p = results.propensity
    if p is not None and (p.configured_exclusions or p.excluded_features):
        sec.analyst.append(f.t("methods.model_exclusions",
                                  configured=", ".join(feature_label(f, c) for c in p.configured_exclusions)
                                  or f.t("methods.none_listed"),
                                  automatic=", ".join(feature_label(f, c) for c in p.excluded_features)
                                  or f.t("methods.none_listed")))
    if results.meaning.transactions:
        sec.analyst.append(f.t("methods.engine", engine=results.meta.engine))
    sec.analyst += _settings_hints(f, results)
    files = [f.t("methods.file_target_list")] if results.target_list is not None else []
    files += [f.t("methods.file_uplift_list")] if results.uplift_list is not None else []
    files += [f.t("methods.file_customer_value")] if results.customer_value is not None else []
    if files:
        sec.analyst.append(f.t("methods.files") + " " + " ".join(files))
    chart = placebo_chart(f, results, source)
    if chart is not None:
        sec.paragraphs.append(f.t("experiment.placebo_note"))
        sec.charts.append(chart)
        sec.so_what["placebo"] = [f.t("experiment.placebo_note")]
        sec.headlines["placebo"] = placebo_headline(f, results)
    reliability = reliability_chart(f, results, source)
    if reliability is not None:
        sec.paragraphs.append(f.t("propensity.reliability_note"))
        sec.charts.append(reliability)
        sec.so_what["reliability"] = [f.t("propensity.reliability_note")]
    return sec
