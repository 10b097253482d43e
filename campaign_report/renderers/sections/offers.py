"""The offers section: one card per segment with the evidence behind the offer."""

from __future__ import annotations

import math

from campaign_report.analysis.results import Results
from campaign_report.renderers.format import Formatter
from campaign_report.renderers.view_model import Card, OfferLine, Section, Summary, Table
from campaign_report.renderers.wording import (
    cluster_names,
    column_name,
    humanize,
    meaning_key,
    offer_text,
    outcome_phrase,
    value_text,
)

SHARE_KEYS = ("lapsed_share", "value_share", "promo_share", "slipping_share", "outcome_probability",
              "decline_probability", "alive_probability")
PROBABILITY_KEYS = ("outcome_probability", "decline_probability", "alive_probability")  # shown as 0.83


def evidence_text(f: Formatter, results: Results, key: str, actual: float) -> str:
    """One fact of a segment as words: "frequency ×1.74", "share with “Service type” = “standard”: 62%"."""
    probability = f.t("outcome.probability", outcome=outcome_phrase(f, results)) if results.meaning.label else ""
    if key.startswith("share:"):
        column, _, value = key[len("share:"):].partition("=")
        return f.t("evidence.share", column=column_name(f, results.meta.names, column),
                   value=f.quote(results.meta.names.get(value, value)), v=f.percent(actual, 0))
    if key in ("average_check", "profit"):
        shown = f.money(actual) if key == "average_check" else value_text(f, results, actual)
    elif key in SHARE_KEYS:
        shown = f.number(actual, 2) if key in PROBABILITY_KEYS else f.percent(actual, 0)
    else:
        shown = _value(f, actual)
    if key in f.strings["evidence"]:
        return f.t(f"evidence.{key}", v=shown, probability=probability)
    return f"{humanize(key)}: {shown}"  # a config rule on a key the locale does not know


def _reason(f: Formatter, results: Results, reason: tuple[str, str, float, float], rules: bool = True) -> str:
    """One condition an offer met: "recency ×1.74 the average (rule ≥ 1.3)", or the guard that had no data."""
    key, op, threshold, actual = reason
    sign = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}[op]
    if math.isnan(actual):
        fact = evidence_text(f, results, key, 0.0)
        return f.t("offers.unchecked", what=fact.split(":")[0].split(" ×")[0].strip())
    share = key in SHARE_KEYS and key not in PROBABILITY_KEYS or key.startswith("share:")
    if not rules:
        return evidence_text(f, results, key, actual)
    rule = f"{sign} {f.percent(threshold, 0) if share else _value(f, threshold)}"
    return f.t("offers.rule", fact=evidence_text(f, results, key, actual), rule=rule)


def reasons_text(f: Formatter, results: Results, reasons: tuple[tuple[str, str, float, float], ...],
                 rules: bool = True) -> str:
    """The conditions an offer met, then, in parentheses, the guards the data could not check. The tables a
    director reads give the facts only (`rules=False`); the cards keep each rule's threshold for the analyst."""
    met = "; ".join(_reason(f, results, r, rules) for r in reasons if not math.isnan(r[3]))
    unchecked = "; ".join(_reason(f, results, r) for r in reasons if math.isnan(r[3]))
    return f"{met} ({unchecked})" if met and unchecked else met or unchecked


def _value(f: Formatter, v: float) -> str:
    return f.integer(v) if float(v).is_integer() else f.number(v, 2)


def segment_name(f: Formatter, results: Results, kind: str, key: str) -> str:
    """A segment's own name: the cluster's, the RFM segment's, the target list, whom to act on first."""
    if kind == "cluster":
        return cluster_names(f, results).get(key, key)
    if kind == "rfm":
        return f.t(f"rfm.{key}") if key in f.strings["rfm"] else key
    if kind == "list":
        return f.t("propensity.list_label")
    return f.t(f"act.label_{meaning_key(results)}")


def segment_title(f: Formatter, results: Results, kind: str, key: str) -> str:
    """A segment as a card's title names it: "Cluster “…”", "RFM: …", or its own name."""
    name = segment_name(f, results, kind, key)
    return f.t(f"offers.{kind}", name=name) if kind in ("cluster", "rfm") else name


def offers_section(f: Formatter, results: Results, source: str, summary: Summary) -> Section:
    """Related categories and the offers per segment with their evidence."""
    o = results.offers
    assert o is not None
    sec = Section("offers", f.t("offers.title"))
    note = f.t("offers.note") if results.experiment is not None else f.t("offers.note_plain")
    sec.paragraphs.append(note)
    if o.pairs:
        sec.tables.append(Table(title=f.t("offers.pairs_title"), header=[
            f.t("offers.col_category"), f.t("offers.col_related"), f.t("offers.col_lift"), f.t("offers.col_support")],
            rows=[[p.category, p.related, f.number(p.lift, 2), f.percent(p.support, 1)] for p in o.pairs[:8]],
            numeric=[2, 3]))
    rfm_rows: list[list[str]] = []
    plan_rows: list[list[str]] = []  # the deck's one offer slide: segment, first offer, why, expected effect
    rest: list[str] = []
    rest_rows: list[list[str]] = []
    for s in o.segments:
        title = segment_title(f, results, s.kind, s.key)
        ev = s.evidence
        facts = [evidence_text(f, results, k, v) for k, v in ev.values.items()
                 if k in f.strings["evidence"] and k not in ("related_count", "outcome_probability")]
        lines = [f.t("offers.facts", customers=f.plural(s.size, "customer"), items=", ".join(facts[:5]))]
        if ev.ab is not None:
            lines.append(f"A/B ({f.t('metric.' + ev.ab.metric)}): {f.percent(ev.ab.rel_lift, 1, sign=True)} "
                         f"({f.percent_range(ev.ab.rel_ci_low, ev.ab.rel_ci_high)})")
        for offer in s.offers:
            text = offer_text(f, offer)
            lines.append(f"{offer.rank}. {text}")
            lines.append("   " + f.t("offers.why", reasons=reasons_text(f, results, offer.reasons)))
            if offer.expected_effect is not None:
                lines.append("   " + f.t("offers.expected", effect=f.money_short(offer.expected_effect, sign=True),
                                         low=f.money_short(offer.expected_low, sign=True),
                                         high=f.money_short(offer.expected_high, sign=True)))
        if s.offers and all(o.expected_effect is None for o in s.offers):
            lines.append(f.t("offers.untested"))
        if not s.offers:
            # Folded into one catch-all card below rather than a card (and a slide) per empty segment.
            reason = f.t("offers.reason_too_few", min=f.plural(o.min_customers, "customer_of"),
                         share=f.percent(o.min_value_share, 0)) \
                if any(r == "too_few_customers" for _, r in s.blocked) else \
                f.t("offers.reason_campaign") if s.blocked else f.t("offers.reason_no_rule")
            rest.append(f"{title} ({f.plural(s.size, 'customer')}): {reason}")
            rest_rows.append([title, f.integer(s.size), reason])
            continue
        for _, reason in s.blocked:
            lines.append(f.t("offers.too_few" if reason == "too_few_customers" else "offers.blocked_campaign"))
        if s.kind == "rfm":
            rfm_rows.append([segment_name(f, results, s.kind, s.key), f.integer(s.size),
                             reasons_text(f, results, s.offers[0].reasons, rules=False),
                             "; ".join(offer_text(f, o) for o in s.offers[:1])])
            continue
        sec.cards.append(Card(title=title, lines=lines, kind=s.kind))
        first = s.offers[0]
        acting = any(x.kind == "action" and x.offers for x in o.segments)
        if s.kind == "list" and acting:  # the list's own offer is for its members outside the segment to act on
            summary.offers.append(OfferLine(segment=title, offer=offer_text(f, first), kind=s.kind))
            continue
        plan_rows.append([segment_name(f, results, s.kind, s.key), f.integer(s.size), offer_text(f, first),
                          reasons_text(f, results, first.reasons, rules=False),
                          f.money_short(first.expected_effect, sign=True) if first.expected_effect is not None
                          else f.t("offers.untested_short")])
        summary.offers.append(OfferLine(segment=title, offer=offer_text(f, s.offers[0]), kind=s.kind))
    # Page 1's offers: whom to act on first, then the list, then the clusters, largest first.
    order = {"action": 0, "list": 1, "cluster": 2}
    summary.offers.sort(key=lambda line: order.get(line.kind, 3))
    if any(line.kind == "action" for line in summary.offers):  # the list's offer goes to the rest of the list
        summary.offers = [line for line in summary.offers if line.kind != "list"]
    if rest:
        sec.cards.append(Card(title=f.t("offers.catch_all"), lines=[f.t("offers.catch_all_text"), *rest],
                              kind="catch_all"))
    if rfm_rows:
        sec.tables.append(Table(title=f.t("offers.rfm_table"), header=[
            f.t("segments.col_rfm"), f.t("segments.col_size"), f.t("offers.evidence"), f.t("offers.col_offer")],
            rows=rfm_rows, numeric=[1]))
    if plan_rows:
        measured = any(s.offers and s.offers[0].expected_effect is not None for s in o.segments)
        # Without a measured effect in any row, the column would say "not measured" on every line and the note
        # would explain a figure that is nowhere: both go, and the untested offers are said once.
        header = [f.t("deck.offers_segment"), f.t("segments.col_size"), f.t("deck.offers_first"),
                  f.t("deck.offers_why")] + ([f.t("deck.offers_effect")] if measured else [])
        sec.deck_tables.append(Table(
            title=f.t("offers.title"), header=header, rows=[r if measured else r[:4] for r in plan_rows],
            numeric=[1], note=note if measured or results.experiment is None else f.t("offers.note_untested"),
            headline=f.t("deck.offers_headline", segments=f.plural(len(plan_rows), "segment"))))
    if rest_rows:
        sec.deck_tables.append(Table(title=f.t("offers.catch_all"), header=[
            f.t("deck.offers_segment"), f.t("segments.col_size"), f.t("deck.offers_why")], rows=rest_rows,
            numeric=[1], note=f.t("offers.catch_all_text"), headline=f.t("offers.catch_all"), appendix=True))
    sec.notes = note
    return sec
