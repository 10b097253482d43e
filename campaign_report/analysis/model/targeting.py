"""From a fitted propensity model to action: the customer table to model, the high-risk × high-profit
segment, and the prioritised target list (probability, decile, segment, offer, reason)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from campaign_report.analysis.data.features import CAT_PREFIX, CustomerFeatures
from campaign_report.analysis.engines.base import Engine, EngineError
from campaign_report.analysis.errors import ConfigError
from campaign_report.analysis.model.propensity import ActionSegment
from campaign_report.analysis.offers.recommend import Offer

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


def action_segment(table: pd.DataFrame, probability: np.ndarray, quantile: float,
                   ) -> tuple[ActionSegment, pd.Series]:
    """Customers in the top (1 - quantile) of decline probability and above the median profit.

    Profit comes from the customers table; without it total spend stands in (said in the documents).
    """
    if "profit" in table and table["profit"].notna().any():
        profit = table["profit"]
    elif "monetary" in table:
        profit = table["monetary"]
    else:
        profit = pd.Series(1.0, index=table.index)
    p_cut = float(np.quantile(probability, quantile))
    profit_cut = float(profit.median())
    mask = (probability >= p_cut) & (profit >= profit_cut).to_numpy()
    members = table[mask]
    cats = [c for c in table.columns if c.startswith(CAT_PREFIX)]
    has_spend = "monetary" in table
    spend = members[cats].multiply(members["monetary"], axis=0).sum() if has_spend else pd.Series(dtype=float)
    shares = spend / max(float(members["monetary"].sum()), 1e-12) if has_spend else spend
    has_promo = "promo_share" in table
    segment = ActionSegment(
        size=int(mask.sum()), share=float(mask.mean()), probability_mean=float(probability[mask].mean())
        if mask.any() else float("nan"), profit_mean=float(profit[mask].mean()) if mask.any() else float("nan"),
        base_profit_mean=float(profit.mean()), probability_cut=p_cut, profit_cut=profit_cut,
        promo_share=float(members["promo_share"].mean()) if has_promo and mask.any() else None,
        base_promo_share=float(table["promo_share"].mean()) if has_promo else None,
        average_check=float(members["monetary"].sum() / max(members["orders"].sum(), 1)) if has_spend else None,
        base_average_check=float(table["monetary"].sum() / max(table["orders"].sum(), 1)) if has_spend else None,
        top_categories=tuple((c[len(CAT_PREFIX):], float(v)) for c, v in
                             shares.sort_values(ascending=False).head(3).items() if v > 0))
    return segment, pd.Series(mask, index=table["id"].to_numpy())


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
        raise ConfigError(f"config.toml: [{section}] score_filter failed: {exc}") from None
    if not ids:
        raise ConfigError(f"config.toml: [{section}] score_filter selects no customers: {score_filter}")
    return table["id"].astype(str).isin(ids).to_numpy()


def target_list(table: pd.DataFrame, probability: np.ndarray, selected: np.ndarray, clusters: pd.Series | None,
                cluster_names: dict[int, str], offer_for: dict[str, Offer], in_action: pd.Series | None,
                action_offer: Offer | None, language: str) -> pd.DataFrame:
    """The scored population sorted by probability, with decile (1 = highest), segment and offer."""
    ids = table["id"].to_numpy()[selected]
    prob = probability[selected]
    frame = pd.DataFrame({"customer_id": ids, "probability": np.round(prob, 4)})
    frame["decile"] = 10 - pd.qcut(pd.Series(prob).rank(method="first"), 10, labels=False).to_numpy() \
        if len(frame) >= 10 else 1
    if clusters is not None:
        cid = clusters.reindex(ids).to_numpy()
        frame["segment"] = [cluster_names.get(int(c), "") if pd.notna(c) else "" for c in cid]
    # Vectorised: a target list can hold millions of customers. The action segment's offer wins over
    # the cluster's, because those customers are the ones to keep first.
    def text(offer: Offer) -> str:
        return offer.text_ru if language == "ru" else offer.text_en

    by_cluster = (clusters.reindex(ids).map(lambda c: offer_for.get(str(int(c))) if pd.notna(c) else None)
                  if clusters is not None else pd.Series([None] * len(ids)))
    chosen = by_cluster.to_numpy(dtype=object).copy()
    if in_action is not None and action_offer is not None:
        chosen[in_action.reindex(ids).fillna(False).to_numpy(dtype=bool)] = action_offer
    # Nobody is left without a word: a customer with no segment offer gets the base communication and a
    # reason code saying why (outside the action segment, or their cluster has no matching offer).
    base_text = BASE_OFFER["ru" if language == "ru" else "en"]
    why = np.full(len(ids), "none:no_segment_offer", dtype=object)
    if in_action is not None:
        why[~in_action.reindex(ids).fillna(False).to_numpy(dtype=bool)] = "none:outside_action_segment"
    frame["offer"] = [text(o) if o is not None else base_text for o in chosen]
    frame["reason_code"] = [f"{o.segment_kind}:{o.offer_id}" if o is not None else w for o, w in zip(chosen, why,
                                                                                                   strict=True)]
    if "gender_imputed" in table:
        # Recovered attributes stay marked wherever they travel.
        frame["gender"] = table["gender"].to_numpy()[selected]
        frame["gender_imputed"] = table["gender_imputed"].to_numpy()[selected].astype(bool)
    return frame.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
