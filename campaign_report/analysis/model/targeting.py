"""From a fitted propensity model to action: the customer table to model, the high-risk × high-profit
segment, and the prioritised target list (probability, decile, segment, offer, reason)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from campaign_report.analysis.data.features import CAT_PREFIX, CustomerFeatures
from campaign_report.analysis.engines.base import Engine, EngineError
from campaign_report.analysis.errors import ConfigError
from campaign_report.analysis.meaning import MoneyMeaning
from campaign_report.analysis.model.propensity import ActionSegment
from campaign_report.analysis.offers.recommend import Offer, SegmentOffers

HOLD_OUT_SHARE, HOLD_OUT_SEED = 0.1, 20_261_203  # of the segment to act on, left uncontacted to measure the effect
BASE_OFFER = {"ru": "Базовая коммуникация: общая рассылка без персонального предложения",
              "en": "Base communication: the general mailing, no personal offer"}


def model_table(features: CustomerFeatures | None, customers: pd.DataFrame | None) -> pd.DataFrame:
    """One row per customer: customer attributes (not the label) joined with behaviour features."""
    if features is None:
        assert customers is not None, "the run needs transactions or customers"
        return customers.drop(columns=[c for c in ("label",) if c in customers]).reset_index(drop=True)
    frame = features.frame
    if customers is not None:
        keep = [c for c in customers.columns if c != "label"]
        frame = customers[keep].merge(frame, on="id", how="left")
    return frame.reset_index(drop=True)


def customer_value(table: pd.DataFrame, money: MoneyMeaning) -> pd.Series | None:
    """What each customer is worth by the money the data hold: the profit column, spend × the stated margin,
    spend (revenue), or None when there is no money at all."""
    basis = money.value_basis
    if basis == "profit" and "profit" in table:
        return table["profit"].astype(float)
    if basis in ("margin", "revenue") and "monetary" in table:
        return table["monetary"].astype(float) * (money.margin if basis == "margin" and money.margin else 1.0)
    return None


def action_segment(table: pd.DataFrame, probability: np.ndarray, selected: np.ndarray, on_list: np.ndarray,
                   value: pd.Series | None, value_basis: str) -> tuple[ActionSegment, np.ndarray]:
    """The list's customers worth the most: on the list and of at least the median value of the scored
    population (the whole list when the data hold no money). Drawn from the list, so never bigger than it."""
    value_cut = float(np.median(value.to_numpy()[selected])) if value is not None and selected.any() else math.nan
    mask = on_list & (value.to_numpy() >= value_cut) if value is not None else on_list.copy()
    members = table[mask]
    cats = [c for c in table.columns if c.startswith(CAT_PREFIX)]
    has_spend = "monetary" in table
    spend = members[cats].multiply(members["monetary"], axis=0).sum() if has_spend else pd.Series(dtype=float)
    shares = spend / max(float(members["monetary"].sum()), 1e-12) if has_spend else spend
    has_promo = "promo_share" in table
    scored = table[selected]
    segment = ActionSegment(
        size=int(mask.sum()), share=float(mask.sum() / max(selected.sum(), 1)), list_size=int(on_list.sum()),
        probability_mean=float(probability[mask].mean()) if mask.any() else math.nan,
        value_basis=value_basis if value is not None else "none",
        value_mean=float(value[mask].mean()) if value is not None and mask.any() else math.nan,
        value_total=float(value[mask].sum()) if value is not None else math.nan,
        expected_outcomes=float(probability[mask].sum()),
        value_expected=float((value.to_numpy()[mask] * probability[mask]).sum()) if value is not None else math.nan,
        base_value_mean=float(value[selected].mean()) if value is not None else math.nan,
        probability_cut=float(probability[on_list].min()) if on_list.any() else math.nan, value_cut=value_cut,
        promo_share=float(members["promo_share"].mean()) if has_promo and mask.any() else None,
        base_promo_share=float(scored["promo_share"].mean()) if has_promo else None,
        average_check=float(members["monetary"].sum() / max(members["orders"].sum(), 1)) if has_spend else None,
        base_average_check=float(scored["monetary"].sum() / max(scored["orders"].sum(), 1)) if has_spend else None,
        top_categories=tuple((c[len(CAT_PREFIX):], float(v)) for c, v in
                             shares.sort_values(ascending=False).head(3).items() if v > 0),
        no_consent=int((~may_message(table) & mask).sum()) if "consent" in table else None)
    return segment, mask


def may_message(table: pd.DataFrame) -> np.ndarray:
    """Customers who consented to messages; a consent not recorded is not one."""
    return (table["consent"].to_numpy(dtype=float, na_value=np.nan) == 1) if "consent" in table \
        else np.ones(len(table), dtype=bool)


def score_population(engine: Engine, name: str, table: pd.DataFrame, score_filter: str | None,
                     section: str = "propensity") -> np.ndarray:
    """Boolean mask of the customers (rows of `table`, registered as `name`) the configured SQL filter selects.

    `section` names the config section the filter came from, for the error message.
    """
    if not score_filter:
        return np.ones(len(table), dtype=bool)
    try:
        ids = {str(r[0]) for r in engine.rows(f"SELECT id FROM {name} WHERE {score_filter}")}
    except EngineError as exc:
        raise ConfigError(f"[{section}] score_filter failed: {exc}") from None
    if not ids:
        raise ConfigError(f"[{section}] score_filter selects no customers: {score_filter}")
    return table["id"].astype(str).isin(ids).to_numpy()


def target_list(table: pd.DataFrame, probability: np.ndarray, selected: np.ndarray, on_list: np.ndarray,
                action_mask: np.ndarray | None, clusters: pd.Series | None, cluster_names: dict[int, str],
                segment_offers: dict[tuple[str, str], SegmentOffers], language: str) -> pd.DataFrame:
    """The scored population sorted by probability, with decile (1 = highest), segment, offer and reason code.

    Whose offer a customer gets: on the list, the segment to act on's, else the list's own (what the documents
    say the list gets), else their cluster's; off the list, their cluster's. Nobody is left without a word: a
    customer with no offer gets the base communication and a reason code saying why. `act_first` marks the
    segment to act on, and `hold_out` one in ten of it (drawn at random, reproducibly) to leave uncontacted, so
    that the effect of contacting them can be measured."""
    ids = table["id"].to_numpy()[selected]
    prob = probability[selected]
    frame = pd.DataFrame({"customer_id": ids, "probability": np.round(prob, 4)})
    frame["decile"] = 10 - pd.qcut(pd.Series(prob).rank(method="first"), 10, labels=False).to_numpy() \
        if len(frame) >= 10 else 1
    if clusters is not None:
        cid = clusters.reindex(ids).to_numpy()
        frame["segment"] = [cluster_names.get(int(c), "") if pd.notna(c) else "" for c in cid]

    def first(kind: str, key: str) -> Offer | None:
        found = segment_offers.get((kind, key))
        return found.offers[0] if found is not None and found.offers else None

    listed = on_list[selected]
    acting = action_mask[selected] if action_mask is not None else np.zeros(len(ids), dtype=bool)
    by_cluster = (clusters.reindex(ids).map(lambda c: first("cluster", str(int(c))) if pd.notna(c) else None)
                  .to_numpy(dtype=object) if clusters is not None else np.full(len(ids), None, dtype=object))
    # Vectorised: a target list can hold millions of customers.
    chosen = by_cluster.copy()
    list_offer, action_offer = first("list", "target_list"), first("action", "high_value_on_list")
    if list_offer is not None:
        chosen[listed] = list_offer
    if action_offer is not None:
        chosen[acting] = action_offer
    why = np.where(listed, "none:no_offer_matches_the_list", "none:not_on_the_list_no_segment_offer")
    base_text = BASE_OFFER["ru" if language == "ru" else "en"]
    frame["offer"] = [(o.text_ru if language == "ru" else o.text_en) if o is not None else base_text for o in chosen]
    frame["reason_code"] = [f"{o.segment_kind}:{o.offer_id}" if o is not None else w
                            for o, w in zip(chosen, why, strict=True)]
    if "gender_imputed" in table:
        # Recovered attributes stay marked wherever they travel.
        frame["gender"] = table["gender"].to_numpy()[selected]
        frame["gender_imputed"] = table["gender_imputed"].to_numpy()[selected].astype(bool)
    if "consent" in table:  # who may get a letter or a message; the others need a channel without one
        frame["may_message"] = may_message(table)[selected]
    # Last: the first columns are a contract (tests/test_e2e.py).
    frame["within_cutoff"] = listed
    frame["act_first"] = acting
    frame["hold_out"] = acting & (np.random.default_rng(HOLD_OUT_SEED).random(len(ids)) < HOLD_OUT_SHARE)
    return frame.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
