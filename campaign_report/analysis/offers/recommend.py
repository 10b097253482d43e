"""What to offer whom: an offer catalogue with eligibility rules, co-purchase lift, per-segment ranking.

A segment's evidence is a set of indices against the whole base (promo share, average check, orders,
recency, age, profit, spend, the share of spend in its top category: 1.0 = same as the base), the share of
its customers who have lapsed by the shop's own purchase cycle, its share of the customers' value, the
model's probability (named by what the label means: `decline_probability` only for a bad outcome) and,
when the campaign was measured in that segment, the A/B lift with its CI. An offer is eligible when all
its conditions hold and the data have what its text names (an offer "in {top_category}" needs a category
that is not a catch-all like «Прочее»); eligible offers are ranked by priority (win-back first for lapsed
segments), then by how far the evidence clears the thresholds, one offer per type. A rule's `unless`
conditions are guards (cashback, unless the segment is promo-hungry): one that holds rules the offer out;
one on evidence the data do not have (no promo column) cannot be checked, so it is not held against the
offer and the offer's reasons say "no data".

Guardrails: no offer for a segment smaller than `min_customers` unless it holds `min_value_share` of the
value; a segment where the campaign measured a loss, or no effect with a non-positive estimate, is not
offered more of the campaign's offer type.
"""

from __future__ import annotations

import math
import operator
import string
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from campaign_report.analysis.config import OfferRule, OffersConfig
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.experiment.result import SegmentEffect
from campaign_report.analysis.tables import Tabular, records_frame

DEFAULT_CATALOGUE = (
    OfferRule("winback_lapsed", "reminder",
              "Персональное письмо «Мы скучаем»: подборка из категории «{top_category}» и бонус на {bonus_days} дней",
              "A personal “we miss you” e-mail: a “{top_category}” selection and a {bonus_days}-day bonus",
              (("lapsed_share", ">=", 0.5),), priority=1),
    OfferRule("winback_lapsed_plain", "reminder",
              "Персональное письмо «Мы скучаем» с бонусом за возвращение на {bonus_days} дней",
              "A personal “we miss you” e-mail with a {bonus_days}-day come-back bonus",
              (("lapsed_share", ">=", 0.5),), weight=0.9, priority=1),
    OfferRule("winback_valuable", "reminder",
              "Звонок или личное письмо менеджера ценным клиентам, которые перестают покупать, и бонус за возвращение",
              "A call or a personal note from a manager to valuable customers who are slipping away, with a "
              "come-back bonus", (("slipping_share", ">=", 0.3),), priority=1),
    OfferRule("winback_reminder", "reminder",
              "Письмо-напоминание: подборка из категории «{top_category}» и бонус за возвращение",
              "Reminder: a “{top_category}” selection and a come-back bonus",
              (("decline_probability", ">=", 0.6),)),
    OfferRule("winback_reminder_plain", "reminder", "Письмо-напоминание с бонусом за возвращение",
              "A reminder e-mail with a come-back bonus", (("decline_probability", ">=", 0.6),), weight=0.9),
    OfferRule("discount_related", "discount", "Персональная скидка 10 % на покупки в категориях {categories}",
              "A personal 10% discount on {categories}", (("promo_index", ">=", 1.3),)),
    OfferRule("discount_plain", "discount", "Персональная скидка 10 % на следующую покупку",
              "A personal 10% discount on the next purchase", (("promo_index", ">=", 1.3),), weight=0.9),
    OfferRule("bundle_1plus1", "bundle", "Акция «1+1» в категории «{top_category}»",
              "Buy-one-get-one in “{top_category}”",
              (("promo_index", ">=", 1.1), ("orders_index", ">=", 1.0))),
    OfferRule("service_privilege", "service_privilege",
              "Сервисные привилегии вместо скидок: бесплатная доставка и сборка, персональный консультант",
              "Service privileges instead of discounts: free delivery and assembly, a personal adviser",
              (("average_check_index", ">=", 1.3), ("promo_index", "<=", 0.7)),
              unless=(("lapsed_share", ">=", 0.5),)),
    OfferRule("limited_edition", "limited_edition", "Ранний доступ к лимитированной серии {top_brand}",
              "Early access to a limited {top_brand} edition", (("age_index", "<=", 0.75),)),
    OfferRule("cashback", "cashback", "Кэшбэк 5 % баллами в категории «{top_category}»",
              "5% cashback in points in “{top_category}”", (("orders_index", ">=", 1.2),),
              unless=(("promo_index", ">=", 1.3),)),
    OfferRule("cashback_plain", "cashback", "Кэшбэк 5 % баллами на следующие покупки",
              "5% cashback in points on the next purchases", (("orders_index", ">=", 1.2),),
              unless=(("promo_index", ">=", 1.3),), weight=0.9),
    OfferRule("winback_recency", "reminder",
              "Персональное письмо «Мы скучаем»: подборка из категории «{top_category}» и бонус на {bonus_days} дней",
              "A personal “we miss you” e-mail: a “{top_category}” selection and a {bonus_days}-day bonus",
              (("recency_index", ">=", 1.8),)),
    OfferRule("loyalty_exclusive", "service_privilege",
              "Программа лояльности: повышенные бонусы и ранний доступ к новинкам",
              "Loyalty programme: higher bonuses and early access to new items",
              (("monetary_index", ">=", 1.5), ("orders_index", ">=", 1.5)), unless=(("lapsed_share", ">=", 0.5),)),
    OfferRule("second_purchase", "second_purchase", "Бонус за вторую покупку в течение {bonus_days} дней",
              "A bonus for a second purchase within {bonus_days} days",
              (("orders", "<=", 1.5), ("lapsed_share", "<", 0.5))),
    OfferRule("free_delivery", "free_delivery", "Бесплатная доставка при заказе от среднего чека",
              "Free delivery above the average check", (("recency_index", ">=", 1.3),)),
    OfferRule("category_focus", "category_selection",
              "Персональная подборка и новинки категории «{top_category}»",
              "A personal selection and new arrivals in “{top_category}”",
              (("top_category_index", ">=", 1.5),), weight=0.6),
    OfferRule("related_category", "cross_sell", "Подборка из связанных категорий: {related}",
              "A selection from related categories: {related}", (("related_count", ">=", 1),), weight=0.3),
)
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
NOT_OPS = {">=": "<", "<=": ">", ">": "<=", "<": ">="}  # a guard that did not hold, stated as the fact that did


@dataclass(frozen=True)
class CategoryPair:
    category: str
    related: str
    together: int
    support: float
    confidence: float
    lift: float


@dataclass(frozen=True)
class EvidenceContext:
    """What the evidence of every segment is measured against: read from the data's meaning once."""

    probability_is: str = "neutral"  # what the model's probability is of: "bad" | "good" | "neutral" outcome
    lapse_days: float | None = None  # silent longer than this: lapsed (the shop's purchase cycle)
    catch_all: tuple[str, ...] = ()  # category values that pool the uncategorised (never an offer's focus)
    bonus_days: int = 30  # how long a time-limited bonus runs (bonus_window: the shop's own purchase cycle)


BONUS_WINDOWS = (30, 60, 90, 180, 365)


def bonus_window(median_gap_days: float | None) -> int:
    """A bonus that asks for a purchase sooner than customers usually come back is one few can use: it runs
    for the shop's median gap between purchases, rounded up to a month, two, a quarter, half a year or a year."""
    if median_gap_days is None or not math.isfinite(median_gap_days):
        return BONUS_WINDOWS[0]
    return next((w for w in BONUS_WINDOWS if w >= median_gap_days), BONUS_WINDOWS[-1])


@dataclass(frozen=True)
class SegmentEvidence:
    kind: str  # "cluster" | "rfm" | "action" | "list"
    key: str
    size: int
    values: dict[str, float]
    top_category: str | None  # None: no categories, or only catch-all ones
    top_brand: str | None
    related: tuple[str, ...]
    ab: SegmentEffect | None
    bonus_days: int = 30  # EvidenceContext.bonus_days, for the offers' texts


@dataclass(frozen=True)
class Offer:
    segment_kind: str
    segment_key: str
    rank: int
    offer_id: str
    offer_type: str
    text_ru: str
    text_en: str
    score: float
    reasons: tuple[tuple[str, str, float, float], ...]  # (evidence key, op, threshold, actual)
    expected_effect: float | None
    expected_low: float | None
    expected_high: float | None


@dataclass(frozen=True)
class SegmentOffers:
    kind: str
    key: str
    size: int
    evidence: SegmentEvidence
    offers: tuple[Offer, ...]
    blocked: tuple[tuple[str, str], ...]  # (offer id, reason code)


@dataclass(frozen=True)
class OffersResult(Tabular):
    PRIMARY: ClassVar[str] = "offers"

    segments: tuple[SegmentOffers, ...]
    pairs: tuple[CategoryPair, ...]
    min_customers: int
    min_value_share: float = 0.05

    def frames(self) -> dict[str, pd.DataFrame]:
        """`offers` (one row per offer and segment), `blocked` (offers ruled out, with the reason), `pairs`."""
        offers = [{"segment_kind": s.kind, "segment": s.key, "segment_size": s.size, "rank": o.rank,
                   "offer": o.offer_id, "type": o.offer_type, "text_ru": o.text_ru, "text_en": o.text_en,
                   "score": o.score, "expected_effect": o.expected_effect, "expected_low": o.expected_low,
                   "expected_high": o.expected_high} for s in self.segments for o in s.offers]
        blocked = [{"segment_kind": s.kind, "segment": s.key, "offer": b[0], "reason": b[1]}
                   for s in self.segments for b in s.blocked]
        return {"offers": pd.DataFrame(offers), "blocked": pd.DataFrame(blocked),
                "pairs": records_frame(self.pairs),
                "summary": pd.DataFrame({"field": ["min_customers"], "value": [self.min_customers]})}


def co_purchase_pairs(engine: Engine, min_support: float, min_together: int = 20,
                      per_category: int = 3) -> tuple[CategoryPair, ...]:
    """For each category, the categories bought in the same order most above chance (lift)."""
    rows = engine.rows(f"""
        WITH b AS (SELECT DISTINCT order_id, category FROM tx WHERE category IS NOT NULL),
        n AS (SELECT count(DISTINCT order_id)::DOUBLE AS n FROM b),
        c AS (SELECT category, count(*)::DOUBLE AS cnt FROM b GROUP BY 1),
        p AS (SELECT x.category AS a, y.category AS r, count(*)::DOUBLE AS together
              FROM b x JOIN b y ON x.order_id = y.order_id AND x.category <> y.category GROUP BY 1, 2)
        SELECT p.a, p.r, p.together, p.together / n.n AS support, p.together / ca.cnt AS confidence,
               p.together * n.n / (ca.cnt * cr.cnt) AS lift
        FROM p, n, c ca, c cr WHERE ca.category = p.a AND cr.category = p.r
          AND p.together >= {int(min_together)} AND p.together / n.n >= {float(min_support)}
        ORDER BY p.a, lift DESC, p.r""")
    pairs: list[CategoryPair] = []
    taken: dict[str, int] = {}
    for a, r, together, support, confidence, lift in rows:
        if lift <= 1 or taken.get(a, 0) >= per_category:
            continue
        taken[a] = taken.get(a, 0) + 1
        pairs.append(CategoryPair(a, r, int(together), float(support), float(confidence), float(lift)))
    return tuple(pairs)


def lapsed(customers: pd.DataFrame, lapse_days: float) -> pd.Series:
    """Who has probably lapsed: silent longer than 90 % of returning customers usually wait (`lapse_days`) and,
    for a customer who came back before, longer than twice their own usual gap (a customer who buys twice a
    year is not lapsed after three months)."""
    recency = customers["recency_days"].astype(float)
    if {"tenure_days", "orders"} <= set(customers.columns):
        repeat = customers["orders"] > 1
        own = ((customers["tenure_days"] - recency) / (customers["orders"] - 1)).where(repeat, 0.0)
        return recency > np.maximum(lapse_days, 2 * own.fillna(0.0))
    return recency > lapse_days


def _is_catch_all(category: str, context: EvidenceContext) -> bool:
    return category.strip().lower() in {c.strip().lower() for c in context.catch_all}


def segment_evidence(kind: str, key: str, members: pd.DataFrame, base: pd.DataFrame,
                     pairs: tuple[CategoryPair, ...], ab: SegmentEffect | None,
                     context: EvidenceContext = EvidenceContext()) -> SegmentEvidence:
    """Indices of a segment against the base, from the customer table (features, profit, value, probability)."""
    def index(col: str) -> float | None:
        if col not in base or base[col].isna().all():
            return None
        b = float(base[col].mean())
        return float(members[col].mean()) / b if b else None

    values: dict[str, float] = {}
    for name, col in (("promo_index", "promo_share"), ("orders_index", "orders"), ("recency_index", "recency_days"),
                      ("age_index", "age"), ("profit_index", "profit"), ("monetary_index", "monetary")):
        v = index(col)
        if v is not None and math.isfinite(v):
            values[name] = v
    if {"monetary", "orders"} <= set(base.columns) and float(members["orders"].sum()) > 0:
        # The average check the portraits show: all the segment's spend over all its orders (not a mean of
        # each customer's own average), against the base's, so that one segment has one average check.
        check = float(members["monetary"].sum() / members["orders"].sum())
        base_check = float(base["monetary"].sum() / max(float(base["orders"].sum()), 1e-12))
        values["average_check"] = check
        if base_check > 0:
            values["average_check_index"] = check / base_check
    for col in members.columns:
        # Shares of each value of small categorical attributes, e.g. "share:тип_сервиса=премиум",
        # so that a catalogue rule can say "no subscription -> premium trial".
        series = base[col]
        small_categorical = not pd.api.types.is_numeric_dtype(series) and 2 <= series.nunique() <= 6
        if small_categorical and not col.startswith(("cat_share", "brand_share")):
            for value in series.dropna().unique():
                values[f"share:{col}={value}"] = float((members[col] == value).mean())
    for col in ("promo_share", "orders", "profit"):
        if col in members and members[col].notna().any():
            values[col] = float(members[col].mean())
    if "probability" in members and members["probability"].notna().any():
        values["outcome_probability"] = float(members["probability"].mean())
        if context.probability_is == "bad":  # a "decline" is said only of a label that means one
            values["decline_probability"] = values["outcome_probability"]
    if context.lapse_days is not None and "recency_days" in members and len(members):
        values["lapsed_share"] = float(lapsed(members, context.lapse_days).mean())
    if "p_alive" in members and members["p_alive"].notna().any():
        values["alive_probability"] = float(members["p_alive"].mean())
        values["slipping_share"] = float(members["slipping_away"].mean())
    if "value" in base and base["value"].notna().any() and float(base["value"].clip(lower=0).sum()) > 0:
        values["value_share"] = float(members["value"].clip(lower=0).sum() / base["value"].clip(lower=0).sum())
    cats = [c for c in members.columns if c.startswith("cat_share::")
            and not _is_catch_all(c.split("::", 1)[1], context)]
    spend = members[cats].multiply(members["monetary"], axis=0).sum() if cats else pd.Series(dtype=float)
    if not cats:
        # Without purchase lines, a categorical "favourite category" column stands in when there is one.
        favourite = next((c for c in members.columns if "категор" in c or "category" in c), None)
        if favourite is not None and members[favourite].notna().any():
            spend = members[favourite].value_counts()
            spend = spend[[not _is_catch_all(str(v), context) for v in spend.index]]
    top_category = str(spend.idxmax()).split("::", 1)[-1] if len(spend) and spend.max() > 0 else None
    if cats and top_category is not None:
        # How much more of its money the segment spends in its top category than the base does.
        all_cats = [c for c in members.columns if c.startswith("cat_share::")]
        base_spend = base[all_cats].multiply(base["monetary"], axis=0).sum()
        member_spend = members[all_cats].multiply(members["monetary"], axis=0).sum()
        top = spend.idxmax()
        base_share = base_spend[top] / base_spend.sum() if base_spend.sum() > 0 else 0.0
        if base_share > 0 and member_spend.sum() > 0:
            values["top_category_index"] = float(member_spend[top] / member_spend.sum() / base_share)
    brands = [c for c in members.columns if c.startswith("brand_share::")]
    bspend = members[brands].multiply(members["monetary"], axis=0).sum() if brands else pd.Series(dtype=float)
    top_brand = bspend.idxmax().split("::", 1)[1] if len(bspend) and bspend.max() > 0 else None
    related = tuple(p.related for p in pairs if p.category == top_category
                    and not _is_catch_all(p.related, context))[:2]
    values["related_count"] = float(len(related))
    return SegmentEvidence(kind, key, len(members), values, top_category, top_brand, related, ab,
                           bonus_days=context.bonus_days)


def _fill(text: str, ev: SegmentEvidence) -> str:
    related = ", ".join(f"«{r}»" for r in ev.related)
    categories = ", ".join(f"«{c}»" for c in (ev.top_category, *ev.related) if c)
    return text.format(top_category=ev.top_category, top_brand=ev.top_brand, related=related,
                       categories=categories, bonus_days=ev.bonus_days)


def _names_what_is_absent(rule: OfferRule, ev: SegmentEvidence) -> bool:
    """An offer whose text names a category, brand or related categories the segment does not have."""
    have = {"top_category": ev.top_category is not None, "categories": ev.top_category is not None,
            "top_brand": ev.top_brand is not None, "related": bool(ev.related)}
    fields = {name for text in (rule.ru, rule.en) for _, name, _, _ in string.Formatter().parse(text) if name}
    return any(not have.get(name, True) for name in fields)


def catalogue_with(extra: tuple[OfferRule, ...]) -> tuple[OfferRule, ...]:
    """The default catalogue extended by config offers; a config offer with a default's id replaces it."""
    ids = {o.id for o in extra}
    return tuple(o for o in DEFAULT_CATALOGUE if o.id not in ids) + tuple(extra)


def recommend(ev: SegmentEvidence, settings: OffersConfig, campaign_type: str) -> SegmentOffers:
    """Rank the eligible offers for one segment, applying the guardrails."""
    catalogue = catalogue_with(settings.catalogue)
    blocked: list[tuple[str, str]] = []
    if ev.size < settings.min_customers and ev.values.get("value_share", 0.0) < settings.min_value_share:
        return SegmentOffers(ev.kind, ev.key, ev.size, ev, (), (("*", "too_few_customers"),))
    campaign_failed = ev.ab is not None and (
        (ev.ab.significant and ev.ab.abs_diff < 0) or (not ev.ab.significant and ev.ab.abs_diff <= 0))
    scored = []
    for rule in catalogue:
        if _names_what_is_absent(rule, ev):
            continue
        reasons: list[tuple[str, str, float, float]] = []
        score, ok = 0.0, True
        for key, op, threshold in rule.when:
            actual = ev.values.get(key)
            if actual is None or not OPS[op](actual, threshold):
                ok = False
                break
            reasons.append((key, op, float(threshold), float(actual)))
            score += 1 + abs(actual - threshold) / max(abs(threshold), 1e-9)
        for key, op, threshold in rule.unless:
            actual = ev.values.get(key)
            if actual is None:
                reasons.append((key, NOT_OPS[op], float(threshold), math.nan))
            elif OPS[op](actual, threshold):
                ok = False
            else:
                reasons.append((key, NOT_OPS[op], float(threshold), float(actual)))
        if not ok:
            continue
        if campaign_failed and rule.type == campaign_type:
            blocked.append((rule.id, "campaign_no_effect_in_segment"))
            continue
        scored.append((score * rule.weight, rule, reasons))
    scored.sort(key=lambda t: (-t[1].priority, -t[0]))
    # One offer per type: a segment gets different kinds of offers, the best-supported of each kind.
    kept, types = [], set()
    for item in scored:
        if item[1].type not in types:
            kept.append(item)
            types.add(item[1].type)
    offers = []
    for rank, (score, rule, reasons) in enumerate(kept[: settings.top_n], start=1):
        effect = low = high = None
        if ev.ab is not None and rule.type == campaign_type and ev.ab.metric == "arpu":
            effect, low, high = (ev.size * v for v in (ev.ab.abs_diff, ev.ab.ci_low, ev.ab.ci_high))
        offers.append(Offer(ev.kind, ev.key, rank, rule.id, rule.type, _fill(rule.ru, ev), _fill(rule.en, ev),
                            score, tuple(reasons), effect, low, high))
    return SegmentOffers(ev.kind, ev.key, ev.size, ev, tuple(offers), tuple(blocked))
