"""The offers stage: evidence per cluster, RFM segment and the high-risk × high-profit segment -> offers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from campaign_report.analysis.config import Config
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.experiment.readout import ExperimentResult, SegmentEffect
from campaign_report.analysis.model.propensity import ActionSegment
from campaign_report.analysis.model.targeting import action_segment
from campaign_report.analysis.offers.recommend import (
    OffersResult,
    SegmentOffers,
    co_purchase_pairs,
    recommend,
    segment_evidence,
)


def run_offers(config: Config, engine: Engine, table: pd.DataFrame, probability: np.ndarray | None,
               clusters: pd.Series | None, cluster_names: dict[int, str], rfm_labels: pd.Series | None,
               experiment_result: ExperimentResult | None, has_tx: bool, selected: np.ndarray | None = None,
               ) -> tuple[OffersResult, pd.Series | None, SegmentOffers | None, ActionSegment | None]:
    """Offers per segment; with a model also the action segment's mask, offers and description.

    The action segment is drawn from the scored population (`selected`, the score_filter's customers), so
    that "whom to act on" and the target list speak of the same people.
    """
    settings = config.offers
    pairs = co_purchase_pairs(engine, settings.min_support) if has_tx else ()
    base = table.copy()
    if probability is not None:
        base["probability"] = probability
    ab_by_segment: dict[tuple[str, str], SegmentEffect] = {}
    if experiment_result is not None:
        for e in experiment_result.by_segment:
            if e.metric == experiment_result.primary:
                ab_by_segment.setdefault((e.dimension, e.segment), e)
    campaign_type = config.experiment.offer_type if config.experiment else "discount"
    results: list[SegmentOffers] = []
    if clusters is not None:
        labels = clusters.reindex(base["id"]).to_numpy()
        for cid in sorted(pd.unique(labels)):
            ab = ab_by_segment.get(("cluster", cluster_names.get(int(cid), "")))
            ev = segment_evidence("cluster", str(int(cid)), base[labels == cid], base, pairs, ab)
            results.append(recommend(ev, settings, campaign_type))
    if rfm_labels is not None:
        labels = rfm_labels.reindex(base["id"]).to_numpy()
        for seg in pd.unique(labels):
            ev = segment_evidence("rfm", str(seg), base[labels == seg], base, pairs,
                                  ab_by_segment.get(("rfm", str(seg))))
            results.append(recommend(ev, settings, campaign_type))
    action_mask = action_offers = action = None
    if probability is not None:
        assert config.propensity is not None
        scored = np.ones(len(base), dtype=bool) if selected is None else selected
        action, in_scored = action_segment(base[scored].reset_index(drop=True), probability[scored],
                                           config.propensity.high_risk_quantile)
        action_mask = in_scored.reindex(base["id"].to_numpy(), fill_value=False)
        ev = segment_evidence("action", "high_risk_high_profit", base[action_mask.to_numpy()], base, pairs, None)
        action_offers = recommend(ev, settings, campaign_type)
        results.append(action_offers)
    return OffersResult(tuple(results), pairs, settings.min_customers), action_mask, action_offers, action
