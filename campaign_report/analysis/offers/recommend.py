"""What to offer whom: an offer catalogue with eligibility rules, co-purchase lift, per-segment ranking.

A segment's evidence is a set of indices against the whole base (promo share, average check, orders,
recency, age, profit, the share of spend in its top category: 1.0 = same as the base) plus its decline
probability and, when the campaign was measured in that segment, the A/B lift with its CI. An offer is
eligible when all its conditions hold; eligible offers are ranked by how far the evidence clears the
thresholds. A rule's `unless` conditions are guards (cashback, unless the segment is promo-hungry): one that
holds rules the offer out; one on evidence the data do not have (no promo column) cannot be checked, so it
is not held against the offer and the offer's reasons say "no data".

Guardrails: no offer for a segment smaller than `min_customers`; a segment where the campaign measured
a loss, or no effect with a non-positive estimate, is not offered more of the campaign's offer type.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from campaign_report.analysis.config import OfferRule, OffersConfig
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.experiment.readout import SegmentEffect
from campaign_report.analysis.tables import Tabular, records_frame

DEFAULT_CATALOGUE = (
    OfferRule("discount_related", "discount", "Персональная скидка 10 % на категории {categories}",
              "Personal 10% discount on {categories}", (("promo_index", ">=", 1.3),)),
    OfferRule("bundle_1plus1", "bundle", "Акция «1+1» в категории «{top_category}»",
              "Buy-one-get-one in “{top_category}”",
              (("promo_index", ">=", 1.1), ("orders_index", ">=", 1.0))),
    OfferRule("service_privilege", "service_privilege",
              "Сервисные привилегии вместо скидок: бесплатная доставка и сборка, персональный консультант",
              "Service privileges instead of discounts: free delivery and assembly, a personal adviser",
              (("average_check_index", ">=", 1.3), ("promo_index", "<=", 0.7))),
    OfferRule("limited_edition", "limited_edition", "Ранний доступ к лимитированной серии {top_brand}",
              "Early access to a limited {top_brand} edition", (("age_index", "<=", 0.75),)),
    OfferRule("cashback", "cashback", "Кэшбэк 5 % баллами в категории «{top_category}»",
              "5% cashback in points in “{top_category}”", (("orders_index", ">=", 1.2),),
              unless=(("promo_index", ">=", 1.3),)),
    OfferRule("winback_reminder", "reminder",
              "Письмо-напоминание: подборка из категории «{top_category}» и бонус за возвращение",
              "Reminder: a “{top_category}” selection and a come-back bonus",
              (("decline_probability", ">=", 0.6),)),
    OfferRule("winback_recency", "reminder",
              "Персональное письмо «Мы скучаем»: подборка из категории «{top_category}» и бонус на 30 дней",
              "A personal “we miss you” e-mail: a “{top_category}” selection and a 30-day bonus",
              (("recency_index", ">=", 1.8),)),
    OfferRule("loyalty_exclusive", "service_privilege",
              "Программа лояльности: повышенные бонусы и ранний доступ к новинкам",
              "Loyalty programme: higher bonuses and early access to new items",
              (("monetary_index", ">=", 1.5), ("orders_index", ">=", 1.5))),
    OfferRule("free_delivery", "free_delivery", "Бесплатная доставка при заказе от среднего чека",
              "Free delivery above the average check", (("recency_index", ">=", 1.3),)),
    OfferRule("category_focus", "category_selection",
              "Персональная подборка и новинки категории «{top_category}» — рассылка только этому сегменту",
              "A personal selection and new arrivals in “{top_category}”, sent to this segment only",
              (("top_category_index", ">=", 1.5),), weight=0.6),
    OfferRule("related_category", "bundle", "Подборка из связанных категорий: {related}",
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
class SegmentEvidence:
    kind: str  # "cluster" | "rfm" | "action"
    key: str
    size: int
    values: dict[str, float]
    top_category: str
    top_brand: str
    related: tuple[str, ...]
    ab: SegmentEffect | None


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


def segment_evidence(kind: str, key: str, members: pd.DataFrame, base: pd.DataFrame,
                     pairs: tuple[CategoryPair, ...], ab: SegmentEffect | None) -> SegmentEvidence:
    """Indices of a segment against the base, from the customer table (features, profit, probability)."""
    def index(col: str) -> float | None:
        if col not in base or base[col].isna().all():
            return None
        b = float(base[col].mean())
        return float(members[col].mean()) / b if b else None

    values: dict[str, float] = {}
    for name, col in (("promo_index", "promo_share"), ("average_check_index", "average_check"),
                      ("orders_index", "orders"), ("recency_index", "recency_days"), ("age_index", "age"),
                      ("profit_index", "profit"), ("monetary_index", "monetary")):
        v = index(col)
        if v is not None and math.isfinite(v):
            values[name] = v
    for col in members.columns:
        # Shares of each value of small categorical attributes, e.g. "share:тип_сервиса=премиум",
        # so that a catalogue rule can say "no subscription -> premium trial".
        series = base[col]
        small_categorical = not pd.api.types.is_numeric_dtype(series) and 2 <= series.nunique() <= 6
        if small_categorical and not col.startswith(("cat_share", "brand_share")):
            for value in series.dropna().unique():
                values[f"share:{col}={value}"] = float((members[col] == value).mean())
    for col in ("promo_share", "average_check", "orders", "profit", "probability"):
        if col in members and members[col].notna().any():
            values[col if col != "probability" else "decline_probability"] = float(members[col].mean())
    cats = [c for c in members.columns if c.startswith("cat_share::")]
    spend = members[cats].multiply(members["monetary"], axis=0).sum() if cats else pd.Series(dtype=float)
    if not cats:
        # Without purchase lines, a categorical "favourite category" column stands in when there is one.
        favourite = next((c for c in members.columns if "категор" in c or "category" in c), None)
        if favourite is not None and members[favourite].notna().any():
            spend = members[favourite].value_counts()
    top_category = str(spend.idxmax()).split("::", 1)[-1] if len(spend) and spend.max() > 0 else "—"
    if cats and spend.max() > 0:
        # How much more of its money the segment spends in its top category than the base does.
        base_spend = base[cats].multiply(base["monetary"], axis=0).sum()
        top = spend.idxmax()
        base_share = base_spend[top] / base_spend.sum() if base_spend.sum() > 0 else 0.0
        if base_share > 0:
            values["top_category_index"] = float(spend[top] / spend.sum() / base_share)
    brands = [c for c in members.columns if c.startswith("brand_share::")]
    bspend = members[brands].multiply(members["monetary"], axis=0).sum() if brands else pd.Series(dtype=float)
    top_brand = bspend.idxmax().split("::", 1)[1] if len(bspend) and bspend.max() > 0 else "—"
    related = tuple(p.related for p in pairs if p.category == top_category)[:2]
    values["related_count"] = float(len(related))
    return SegmentEvidence(kind, key, len(members), values, top_category, top_brand, related, ab)


def _fill(text: str, ev: SegmentEvidence) -> str:
    related = ", ".join(f"«{r}»" for r in ev.related)
    categories = ", ".join(f"«{c}»" for c in (ev.top_category, *ev.related))
    return text.format(top_category=ev.top_category, top_brand=ev.top_brand, related=related,
                       categories=categories)


def catalogue_with(extra: tuple[OfferRule, ...]) -> tuple[OfferRule, ...]:
    """The default catalogue extended by config offers; a config offer with a default's id replaces it."""
    ids = {o.id for o in extra}
    return tuple(o for o in DEFAULT_CATALOGUE if o.id not in ids) + tuple(extra)


def recommend(ev: SegmentEvidence, settings: OffersConfig, campaign_type: str) -> SegmentOffers:
    """Rank the eligible offers for one segment, applying the guardrails."""
    catalogue = catalogue_with(settings.catalogue)
    blocked: list[tuple[str, str]] = []
    if ev.size < settings.min_customers:
        return SegmentOffers(ev.kind, ev.key, ev.size, ev, (), (("*", "too_few_customers"),))
    campaign_failed = ev.ab is not None and (
        (ev.ab.significant and ev.ab.abs_diff < 0) or (not ev.ab.significant and ev.ab.abs_diff <= 0))
    scored = []
    for rule in catalogue:
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
    scored.sort(key=lambda t: -t[0])
    offers = []
    for rank, (score, rule, reasons) in enumerate(scored[: settings.top_n], start=1):
        effect = low = high = None
        if ev.ab is not None and rule.type == campaign_type and ev.ab.metric == "arpu":
            effect, low, high = (ev.size * v for v in (ev.ab.abs_diff, ev.ab.ci_low, ev.ab.ci_high))
        offers.append(Offer(ev.kind, ev.key, rank, rule.id, rule.type, _fill(rule.ru, ev), _fill(rule.en, ev),
                            score, tuple(reasons), effect, low, high))
    return SegmentOffers(ev.kind, ev.key, ev.size, ev, tuple(offers), tuple(blocked))
