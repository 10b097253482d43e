"""The offers stage: evidence per cluster, RFM segment, the target list and its customers worth the most
-> offers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from campaign_report.analysis.config import Config
from campaign_report.analysis.customers.rfm import PurchaseCycle
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.experiment.result import ExperimentResult, SegmentEffect
from campaign_report.analysis.meaning import DataMeaning
from campaign_report.analysis.model.propensity import ActionSegment, MainCluster
from campaign_report.analysis.model.targeting import action_segment, customer_value
from campaign_report.analysis.offers.recommend import (
    EvidenceContext,
    OffersResult,
    SegmentOffers,
    bonus_window,
    co_purchase_pairs,
    recommend,
    segment_evidence,
)


@dataclass(frozen=True)
class ListScores:
    """The model's scores and the list drawn from them (rows of the model table)."""

    probability: np.ndarray
    selected: np.ndarray  # the scored population (score_filter)
    on_list: np.ndarray  # on the target list (model.run.list_membership)


def run_offers(config: Config, engine: Engine, table: pd.DataFrame, meaning: DataMeaning, scores: ListScores | None,
               clusters: pd.Series | None, cluster_names: dict[int, str], rfm_labels: pd.Series | None,
               cycle: PurchaseCycle | None, experiment_result: ExperimentResult | None,
               lifetime: pd.DataFrame | None = None,
               ) -> tuple[OffersResult, np.ndarray | None, ActionSegment | None]:
    """Offers per segment; with a model also for the list and for its customers worth the most (the segment
    to act on: its mask over the table's rows and its description). `lifetime`: each customer's P(alive) and
    whether they are slipping away, when the lifetime model fits."""
    settings = config.offers
    pairs = co_purchase_pairs(engine, settings.min_support) if meaning.categories else ()
    base = table.copy()
    value = customer_value(table, meaning.money)
    if value is not None:
        base["value"] = value.to_numpy()
    if scores is not None:
        base["probability"] = scores.probability
    if lifetime is not None:
        by_id = lifetime.set_index("id")
        ids = base["id"].astype(str)
        base["p_alive"] = by_id["p_alive"].reindex(ids).to_numpy()
        base["slipping_away"] = by_id["slipping_away"].reindex(ids).fillna(False).to_numpy(dtype=float)
    context = EvidenceContext(probability_is=meaning.label.positive_is if meaning.label else "neutral",
                              lapse_days=cycle.lapse_days if cycle is not None else None,
                              catch_all=settings.catch_all_categories,
                              bonus_days=bonus_window(cycle.median_gap if cycle is not None else None))
    ab_by_segment: dict[tuple[str, str], SegmentEffect] = {}
    if experiment_result is not None:
        for e in experiment_result.by_segment:
            if e.metric == experiment_result.primary:
                ab_by_segment.setdefault((e.dimension, e.segment), e)
    campaign_type = config.experiment.offer_type if config.experiment else "discount"

    def offers_for(kind: str, key: str, mask: np.ndarray, ab: SegmentEffect | None = None) -> SegmentOffers:
        return recommend(segment_evidence(kind, key, base[mask], base, pairs, ab, context), settings, campaign_type)

    results: list[SegmentOffers] = []
    if clusters is not None:
        labels = clusters.reindex(base["id"]).to_numpy()
        for cid in sorted(pd.unique(labels)):
            results.append(offers_for("cluster", str(int(cid)), labels == cid,
                                      ab_by_segment.get(("cluster", cluster_names.get(int(cid), "")))))
    if rfm_labels is not None:
        labels = rfm_labels.reindex(base["id"]).to_numpy()
        for seg in pd.unique(labels):
            results.append(offers_for("rfm", str(seg), labels == seg, ab_by_segment.get(("rfm", str(seg)))))
    action_mask = action = None
    if scores is not None and scores.on_list.any():
        action, action_mask = action_segment(table, scores.probability, scores.selected, scores.on_list, value,
                                             meaning.money.value_basis)
        results.append(offers_for("list", "target_list", scores.on_list))
        results.append(offers_for("action", "high_value_on_list", action_mask))
        if clusters is not None and action.size:
            action = dataclasses.replace(action, main_cluster=main_cluster(
                clusters.reindex(table["id"]).to_numpy()[action_mask], cluster_names, ab_by_segment))
    return OffersResult(tuple(results), pairs, settings.min_customers, settings.min_value_share), action_mask, action


def main_cluster(labels: np.ndarray, cluster_names: dict[int, str],
                 ab_by_segment: dict[tuple[str, str], SegmentEffect]) -> MainCluster | None:
    """The cluster holding more than half of the segment to act on, with the campaign's effect in it."""
    known = labels[~pd.isna(labels)].astype(int)
    if not len(known):
        return None
    ids, counts = np.unique(known, return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] * 2 <= len(labels):
        return None
    name = cluster_names.get(int(ids[top]), "")
    return MainCluster(name=name, customers=int(counts[top]), effect=ab_by_segment.get(("cluster", name)))
