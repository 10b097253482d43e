"""The customer-segments section: cluster portraits, RFM, the k choice."""

from __future__ import annotations

from campaign_report.analysis.customers.rfm import RfmResult, RfmRisk
from campaign_report.analysis.customers.segments import ClusterPortrait
from campaign_report.analysis.results import Results
from campaign_report.renderers.charts import ChartSpec, Series, percent_points
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.sections.appendix import acquisition_text, segment_features
from campaign_report.renderers.view_model import Card, Finding, KeyNumber, Section, Summary, Table
from campaign_report.renderers.wording import cluster_name, feature_label, lower_first

ONE_TIME_FINDING = 0.5  # from this share of one-order customers, "most bought once" leads the profile's tiles
CONCENTRATION = 1.5  # revenue share / customer share from which a segment's weight is a finding


def _clean_share(cluster: ClusterPortrait) -> float:
    """The cluster's revenue share without the order lines flagged as too large to tell from an error."""
    return cluster.revenue_share_unflagged if cluster.revenue_share_unflagged is not None else cluster.revenue_share

def rfm_note(f: Formatter, rfm: RfmResult) -> str:
    """How RFM scored this shop: against its own purchase cycle (the days said), or by quintiles without one."""
    c = rfm.cycle
    if c is None:
        return f.t("segments.rfm_note_quintiles")
    return f.t("segments.rfm_note", median=f.plural(c.median_gap, "day_of"), p75=f.plural(c.gap_75, "day_of"),
               p90=f.plural(c.gap_90, "day_of"), lapsed=f.plural(2 * c.gap_90, "day_of"),
               repeat=f.plural(c.repeat_customers, "customer_of"))


def _shares(f: Formatter, items: tuple[tuple[str, float], ...]) -> str:
    """"Одежда 44 %, Обувь 23 %": a share that prints as "0 %" says nothing, so only the first may be that small."""
    return ", ".join(f"{name} {f.percent(v, 0)}" for i, (name, v) in enumerate(items) if i == 0 or v >= 0.005)


def segments_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Cluster portraits, k choice, RFM table and charts."""
    seg, rfm = results.segments, results.rfm
    sec = Section("segments", f.t("segments.title"))
    stop = results.meaning.acquisition_stop
    if rfm is not None and stop is not None and stop.kind == "stopped":  # recency counts purchases that may be none
        sec.warnings.append(acquisition_text(f, stop, short=True))
    if seg is not None:
        key = {"auto_silhouette": "segments.k_auto", "auto_silhouette_at_limit": "segments.k_at_limit"}.get(
            seg.k_reason, "segments.k_fixed")
        sec.paragraphs.append(f.t(key, k=seg.k, silhouette=f.number(seg.silhouette, 2), cap=seg.k_searched))
        small = [c for c in seg.clusters if c.share < seg.min_share]
        if small:
            sec.warnings.append(f.t("segments.small_clusters", min=f.percent(seg.min_share, 0), items=", ".join(
                f"{f.quote(cluster_name(f, c))} ({f.plural(c.size, 'customer')})" for c in small)))
        free_text = [i for q in results.data_quality for i in q.issues if i.kind == "free_text_category"]
        for issue in free_text:
            sec.warnings.append(f.t("segments.free_text", column=issue.column or "category",
                                    n=f.integer(issue.count)))
        if seg.n_fitted < seg.n_customers:
            sec.paragraphs.append(f.t("segments.fitted_on", fitted=f.integer(seg.n_fitted),
                                      total=f.plural(seg.n_customers, "customer_of")))
        names = [cluster_name(f, c) for c in seg.clusters]
        biggest = max(seg.clusters, key=lambda c: c.revenue_share)
        # A finding is a segment whose revenue outweighs its size; revenue in proportion to size is said as such.
        # (among segments that carry a tenth of revenue at least: a tiny niche is not the segments' headline).
        # The weight must hold without the order lines flagged as too large to tell from an error.
        weighty = [c for c in seg.clusters if c.share > 0 and c.revenue_share >= 0.1
                   and min(c.revenue_share, c.revenue_share_unflagged if c.revenue_share_unflagged is not None
                           else c.revenue_share) / c.share >= CONCENTRATION]
        # "Revenue splits roughly by size" only when it does: a segment weighty through flagged lines alone, or
        # one that brings much less revenue than its size, is what the headline says instead.
        weighty_if_flagged = [c for c in seg.clusters if c.share > 0 and c.revenue_share >= 0.1
                              and c.revenue_share / c.share >= CONCENTRATION]
        light = [c for c in seg.clusters if c.share >= 0.1 and _clean_share(c) / c.share <= 1 / CONCENTRATION]
        few = "few" if seg.k < 5 else "many"
        if weighty:
            key, dense = f"segments.headline_{few}", max(weighty, key=lambda c: c.revenue_share)
        elif weighty_if_flagged:
            key, dense = f"segments.headline_flagged_{few}", max(weighty_if_flagged, key=lambda c: c.revenue_share)
        elif light:
            key, dense = f"segments.headline_light_{few}", max(light, key=lambda c: c.share)
        else:
            key, dense = f"segments.headline_even_{few}", biggest
        sec.headline = f.t(key, k=seg.k, name=cluster_name(f, dense), customers=f.percent(dense.share, 0),
                           share=f.percent(dense.revenue_share, 0), clean=f.percent(_clean_share(dense), 0))
        sec.charts.append(ChartSpec("cluster_sizes", "bar", f.t("segments.sizes_chart"), f.t("segments.share_unit"),
                                    tuple(names), (
                                        Series(f.t("segments.customers_share"),
                                               percent_points([c.share for c in seg.clusters])),
                                        Series(f.t("segments.revenue_share"),
                                               percent_points([c.revenue_share for c in seg.clusters]))),
                                    # two measures of one thing, neither "not beyond noise": no grey
                                    source, decimals=0, decimal_mark=f.decimal, shades=True))
        sec.headlines["cluster_sizes"] = sec.headline
        sec.so_what["cluster_sizes"] = [f.t("segments.kpi_k_detail", name=cluster_name(f, biggest),
                                            share=f.percent(biggest.share, 0),
                                            revenue=f.percent(biggest.revenue_share, 0))] + sec.warnings[:1]
        if rfm is not None and rfm.one_time_share >= ONE_TIME_FINDING:
            # Most customers never came back: the first thing a profile of this base says.
            summary.key_numbers.append(KeyNumber(
                label=f.t("segments.kpi_one_time"), value=f.percent(rfm.one_time_share, 0),
                # After an export that stops showing new customers, their orders may sit on old ids: more bought once.
                detail=f.t("segments.kpi_one_time_detail" + ("_stopped" if stop and stop.kind == "stopped" else ""),
                           customers=f.integer(rfm.one_time_customers), total=f.plural(rfm.customers, "customer_of"),
                           after=f.date(stop.first_quiet_day) if stop else ""),
                significant=True, source="segments"))
        summary.key_numbers.append(KeyNumber(
            label=f.t("segments.kpi_k"), value=f.integer(seg.k),
            detail=f.t("segments.kpi_k_detail", name=cluster_name(f, biggest), share=f.percent(biggest.share, 0),
                       revenue=f.percent(biggest.revenue_share, 0)),
            significant=True, source="segments"))
        if seg.k_scores:
            sec.charts.append(ChartSpec("silhouette", "line", f.t("segments.silhouette_chart"),
                                        f.t("segments.silhouette_unit"), tuple(str(s.k) for s in seg.k_scores),
                                        (Series(f.t("segments.silhouette_unit"),
                                                tuple(s.silhouette for s in seg.k_scores)),), source,
                                        category_title="k", decimals=2, decimal_mark=f.decimal))
            sec.diagnostics.append("silhouette")
            sec.chart_methods["silhouette"] = f.t("segments.method_silhouette")
            sec.headlines["silhouette"] = f.t(
                "segments.k_auto", k=seg.k, silhouette=f.number(seg.silhouette, 2)).split(" (")[0]
        base_promo = None
        for c in seg.clusters:
            lines = [f.t("segments.size", customers=f.plural(c.size, "customer"), share=f.percent(c.share, 1),
                         revenue=f.percent(c.revenue_share, 1))]
            if c.mean_age is not None:
                lines.append(f.t("segments.age", age=f.number(c.mean_age, 0)))
            if c.gender_shares:
                lines.append(f.t("segments.gender", shares=", ".join(f"{value} {f.percent(share, 0)}"
                                                                      for value, share in c.gender_shares),
                                 known=f.percent(c.gender_known_share, 0)))
            lines.append(f.t("segments.check", check=f.money(c.average_check), orders=f.number(c.orders_mean, 1)))
            if c.promo_share is not None:
                base_promo = next((d.base_mean for d in c.distinctions if d.feature == "promo_share"), base_promo)
                lines.append(f.t("segments.promo", promo=f.percent(c.promo_share, 0),
                                 base=f.percent(base_promo, 0) if base_promo is not None else "—"))
            if c.top_categories:
                lines.append(f.t("segments.top_categories", items=_shares(f, c.top_categories)))
            if c.top_brands:
                lines.append(f.t("segments.top_brands", items=_shares(f, c.top_brands)))
            distinct = [f"{feature_label(f, d.feature)} "
                        f"({f.t('segments.more' if d.std_diff > 0 else 'segments.less')}, "
                        f"{f.number(d.std_diff, 1, sign=True)} σ)" for d in c.distinctions[:3]]
            lines.append(f.t("segments.distinct", items="; ".join(distinct)) if distinct else
                         f.t("segments.not_distinct"))
            sec.cards.append(Card(title=f"{f.t('segments.cluster', id=c.id)} — {f.quote(cluster_name(f, c))}",
                                  lines=lines))
        # The portraits' finding: the cluster that stands out most, and in what. ("The segments differ most by
        # promo share and clothing" restated what the clusters were built on.) Its figures are on its card: a
        # second figure here (a mean of customers' shares beside the card's share of spend) would be two values.
        standing = [(abs(d.std_diff), c, d) for c in seg.clusters for d in c.distinctions[:1] if abs(d.std_diff) >= 0.5]
        if standing:
            _, c, d = max(standing, key=lambda x: x[0])
            sec.headlines["portraits"] = f.t("segments.headline_portraits_" + ("above" if d.std_diff > 0 else "below"),
                                             name=cluster_name(f, c), trait=feature_label(f, d.feature))
    if rfm is not None:
        names = [f.t(f"rfm.{s.name}") if s.name in f.strings["rfm"] else s.name for s in rfm.segments]
        sec.tables.append(Table(title=f.t("segments.rfm_title"), header=[
            f.t("segments.col_rfm"), f.t("segments.col_size"), f.t("segments.col_share"), f.t("segments.col_revenue"),
            f.t("segments.col_r"), f.t("segments.col_f"), f.t("segments.col_m")],
            rows=[[n, f.integer(s.size), f.percent(s.share, 1), f.percent(s.revenue_share, 1),
                      f.number(s.recency, 0), f.number(s.frequency, 1), f.money(s.monetary)]
                     for n, s in zip(names, rfm.segments, strict=True)],
            numeric=[1, 2, 3, 4, 5, 6]))
        sec.paragraphs.append(rfm_note(f, rfm))
        sec.charts.append(ChartSpec("rfm", "bar", f.t("segments.rfm_chart"), f.t("segments.share_unit"), tuple(names), (
            Series(f.t("segments.customers_share"), percent_points([s.share for s in rfm.segments])),
            Series(f.t("segments.revenue_share"), percent_points([s.revenue_share for s in rfm.segments]))),
            source, decimals=0, decimal_mark=f.decimal, shades=True))  # coloured as the clusters' same two series
    if rfm is not None and rfm.risk is not None:
        risk = rfm.risk
        sec.headlines["rfm"] = f.t("segments.headline_rfm", share=f.percent(risk.share, 0))
        lists = _risk_lists(f, results, risk)
        sec.so_what["rfm"] = [f.t("segments.risk_line", share=f.percent(risk.share, 0),
                                  revenue=f.percent(risk.revenue_share, 0)), *([lists] if lists else []),
                              rfm_note(f, rfm)]
        if lists:
            sec.paragraphs.append(lists)
        summary.key_numbers.append(KeyNumber(label=f.t("segments.kpi_risk"), value=f.percent(risk.share, 0),
                                             detail=f.t("segments.kpi_risk_detail",
                                                        revenue=f.percent(risk.revenue_share, 0)),
                                             significant=True, source="segments"))
    # One finding for page 1 and the summary slide: both analyses in one sentence, so the summary's title
    # is not the next slide's title (the cluster chart's) again.
    said = [x for x in (sec.headline, sec.headlines.get("rfm", "")) if x]
    if said:
        summary.findings.append(Finding(label=f.t("doc.finding_segments"), sentence="; ".join(
            [said[0]] + [lower_first(x) for x in said[1:]]) + "."))
    customers = seg.n_customers if seg is not None else sum(s.size for s in rfm.segments) if rfm else 0
    summary.spare_numbers.append(KeyNumber(
        label=f.t("segments.kpi_customers"), value=f.integer(customers),
        detail=f.t("segments.kpi_customers_detail", k=seg.k if seg else 0, rfm=len(rfm.segments) if rfm else 0)
        if seg is not None and rfm is not None else "", significant=True, source="segments"))
    sec.notes = f.t("methods.segments", features=segment_features(f, results)) + (
        " " + rfm_note(f, rfm) if rfm is not None else "")
    return sec


def _risk_lists(f: Formatter, results: Results, risk: RfmRisk) -> str:
    """How RFM's gone-or-going customers relate to the model's target list and the value model's slipping away."""
    parts = []
    p = results.propensity
    if risk.on_target_list is not None and p is not None and p.target_list is not None:
        parts.append(f.t("segments.risk_on_list", n=f.integer(risk.on_target_list),
                         list=f.plural(p.target_list.above_threshold, "customer")))
    life = results.lifetime
    if risk.slipping is not None and life is not None and life.slipping is not None:
        parts.append(f.t("segments.risk_slipping", n=f.integer(risk.slipping), total=f.integer(life.slipping.size)))
    if not parts:
        return ""
    return f.t("segments.risk_lists", customers=f.plural(risk.customers, "customer_of"), parts="; ".join(parts))
