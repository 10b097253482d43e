"""Offers: planted behaviour -> planted offer, co-purchase lift by hand, guardrails."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from campaign_report.analysis.config import OffersConfig
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.analysis.experiment.result import SegmentEffect
from campaign_report.analysis.offers.recommend import co_purchase_pairs, recommend, segment_evidence


def test_planted_types_get_planted_offers(small_run):
    results = small_run.results
    by_cluster = {s.key: s for s in results.offers.segments if s.kind == "cluster"}
    names = {str(c.id): c.name_ru for c in results.segments.clusters}
    hunters = next(k for k, n in names.items() if n.startswith("Охотники за скидками"))
    premium = next(k for k, n in names.items() if n.startswith("Крупные чеки"))
    assert {o.offer_type for o in by_cluster[hunters].offers} & {"discount", "bundle", "cashback"}
    assert by_cluster[hunters].offers[0].offer_type in ("discount", "bundle")
    assert by_cluster[premium].offers[0].offer_type == "service_privilege"
    assert "discount" not in {o.offer_type for o in by_cluster[premium].offers}


def test_co_purchase_lift_by_hand():
    con = DuckDBEngine()
    baskets = {1: "AB", 2: "AB", 3: "AC", 4: "B", 5: "C", 6: "AB", 7: "BC", 8: "A"}
    rows = [(str(o), c) for o, cats in baskets.items() for c in cats]
    con.register("_rows", pd.DataFrame(rows, columns=["order_id", "category"]))
    con.table("tx", "SELECT * FROM _rows")
    pairs = {(p.category, p.related): p for p in co_purchase_pairs(con, min_support=0.0, min_together=1)}
    # n = 8 orders; A in 5, B in 5, C in 3; A&B in 3: lift = 3*8/(5*5) = 0.96 (< 1: not suggested).
    assert ("A", "B") not in pairs
    # A&C in 1: lift = 1*8/(5*3) = 0.533; B&C in 1: 8/15. Nothing above chance but ...
    assert pairs == {}
    con.execute("INSERT INTO tx VALUES ('9','B'),('9','C'),('10','B'),('10','C')")
    pairs = {(p.category, p.related): p for p in co_purchase_pairs(con, min_support=0.0, min_together=1)}
    # n = 10; B in 7, C in 5, B&C in 3: lift = 3*10/(7*5) = 0.857; C&A 1*10/(5*5)=0.4 -> still none
    assert pairs == {}
    con.execute("INSERT INTO tx VALUES ('11','C'),('11','D'),('12','C'),('12','D'),('13','D')")
    pairs = {(p.category, p.related): p for p in co_purchase_pairs(con, min_support=0.0, min_together=1)}
    # n = 13; C in 7, D in 3, C&D in 2: lift = 2*13/(7*3) = 1.238; support 2/13; confidence C->D 2/7.
    assert pairs[("C", "D")].lift == pytest.approx(26 / 21)
    assert pairs[("C", "D")].support == pytest.approx(2 / 13)
    assert pairs[("C", "D")].confidence == pytest.approx(2 / 7)
    assert pairs[("D", "C")].confidence == pytest.approx(2 / 3)


def _segment(size: int, promo: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = pd.DataFrame({"promo_share": [0.3] * 1000, "average_check": 1000.0, "orders": 5.0,
                         "monetary": 5000.0, "recency_days": 30.0})
    members = base.head(size).assign(promo_share=promo)
    return members, base


def _effect(abs_diff: float, significant: bool) -> SegmentEffect:
    return SegmentEffect("cluster", "x", "treatment", "arpu", 500, 500, 100.0, 100 + abs_diff, abs_diff,
                         abs_diff / 100, abs_diff - 10, abs_diff + 10, (abs_diff - 10) / 100, (abs_diff + 10) / 100,
                         0.01 if significant else 0.5, 0.01 if significant else 0.5, significant, 0.95)


def test_guardrail_tiny_segment_gets_nothing():
    members, base = _segment(40, 0.6)
    result = recommend(segment_evidence("cluster", "0", members, base, (), None), OffersConfig(min_customers=100),
                       "discount")
    assert result.offers == () and result.blocked == (("*", "too_few_customers"),)


def test_guardrail_loss_blocks_more_of_the_same():
    members, base = _segment(400, 0.6)
    settings = OffersConfig()
    worked = recommend(segment_evidence("cluster", "0", members, base, (), _effect(20, True)), settings, "discount")
    assert "discount" in {o.offer_type for o in worked.offers}
    discount = next(o for o in worked.offers if o.offer_type == "discount")
    assert discount.expected_effect == pytest.approx(400 * 20)
    assert (discount.expected_low, discount.expected_high) == pytest.approx((400 * 10, 400 * 30))
    lost = recommend(segment_evidence("cluster", "0", members, base, (), _effect(-20, True)), settings, "discount")
    assert "discount" not in {o.offer_type for o in lost.offers}
    # No category in this segment: the plain discount is the one the catalogue would make, and it is blocked.
    assert ("discount_plain", "campaign_no_effect_in_segment") in lost.blocked
    flat = recommend(segment_evidence("cluster", "0", members, base, (), _effect(-1, False)), settings, "discount")
    assert "discount" not in {o.offer_type for o in flat.offers}


def _category_segment(top_share: float, base_share: float, promo: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Spend split between two categories; the segment (first 200 rows) buys more of "garden".
    base = pd.DataFrame({"cat_share::garden": base_share, "cat_share::kitchen": 1 - base_share,
                         "average_check": 1000.0, "orders": 2.0, "monetary": 2000.0, "recency_days": 30.0},
                        index=range(1000))
    if promo:
        base["promo_share"] = 0.3
    members = base.head(200).assign(**{"cat_share::garden": top_share, "cat_share::kitchen": 1 - top_share})
    return members, base


def test_category_focus_needs_the_segment_to_buy_more_of_its_category_than_the_base():
    members, base = _category_segment(0.9, 0.3, promo=False)
    ev = segment_evidence("cluster", "0", members, base, (), None)
    assert ev.top_category == "garden"
    assert ev.values["top_category_index"] == pytest.approx(0.9 / 0.3)
    offers = recommend(ev, OffersConfig(), "discount").offers
    focus = next(o for o in offers if o.offer_id == "category_focus")
    assert "garden" in focus.text_en and focus.reasons == (("top_category_index", ">=", 1.5, pytest.approx(3.0)),)
    members, base = _category_segment(0.4, 0.3, promo=False)  # index 1.33: not a category specialist
    ev = segment_evidence("cluster", "0", members, base, (), None)
    assert "category_focus" not in {o.offer_id for o in recommend(ev, OffersConfig(), "discount").offers}


def test_a_guard_on_evidence_the_data_lack_is_not_held_against_the_offer():
    # cashback: orders_index >= 1.2 unless promo_index >= 1.3. Without a promo column the guard cannot be checked.
    members, base = _category_segment(0.3, 0.3, promo=False)
    members = members.assign(orders=4.0)
    ev = segment_evidence("cluster", "0", members, base, (), None)
    cashback = next(o for o in recommend(ev, OffersConfig(), "discount").offers if o.offer_id == "cashback")
    promo_reason = next(r for r in cashback.reasons if r[0] == "promo_index")
    assert promo_reason[1] == "<" and math.isnan(promo_reason[3])
    # With promo data the guard is checked: promo-hungry frequent buyers get no cashback.
    members, base = _category_segment(0.3, 0.3, promo=True)
    members = members.assign(orders=4.0, promo_share=0.9)
    ev = segment_evidence("cluster", "0", members, base, (), None)
    assert "cashback" not in {o.offer_id for o in recommend(ev, OffersConfig(), "discount").offers}
    # A `when` condition on missing evidence fails: no age column, no "young customers" offer.
    assert "limited_edition" not in {o.offer_id for o in recommend(ev, OffersConfig(), "discount").offers}


def test_a_time_limited_bonus_runs_for_the_shops_own_purchase_cycle():
    """A shop whose customers come back every ~9 months gets no "within 30 days" bonus: the window is the median
    gap between purchases rounded up to a month, two, a quarter, half a year or a year."""
    from campaign_report.analysis.offers.recommend import bonus_window

    assert [bonus_window(g) for g in (None, 12.0, 30.0, 31.0, 75.0, 267.0, 900.0)] == [30, 30, 30, 60, 90, 365, 365]
