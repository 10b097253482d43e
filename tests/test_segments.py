"""Clusters recover the planted customer types; RFM scores and rules on hand-made examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from campaign_report.analysis.config import RfmRule, SegmentsConfig, load_config
from campaign_report.analysis.customers.rfm import (
    DEFAULT_RULES,
    analyze_rfm,
    assign_segments,
    quintile_score,
    rfm_scores,
    risk_overlaps,
)
from campaign_report.analysis.customers.segments import analyze_segments, spend_stratified_sample
from campaign_report.analysis.data.clean import clean_customers, clean_transactions
from campaign_report.analysis.data.features import build_customer_features
from campaign_report.analysis.data.load import load_raw
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from tests.conftest import DATASETS, ROOT, demo_config, write_config


@pytest.fixture(scope="module")
def demo_features(demo_dir: Path, tmp_path_factory):
    work = tmp_path_factory.mktemp("features")
    config = load_config(write_config(work, demo_config(demo_dir, work / "out")))
    con = DuckDBEngine()
    customers, _ = clean_customers(con, load_raw(con, config.tables["customers"], work), config.tables["customers"])
    clean_transactions(con, load_raw(con, config.tables["transactions"], work), config.tables["transactions"],
                       pd.Timestamp("2026-11-22"))
    return build_customer_features(con, customers["id"]), customers


def test_clusters_recover_planted_types(demo_features, demo_dir):
    features, customers = demo_features
    result, labels, _ = analyze_segments(features, customers, SegmentsConfig())
    truth = pd.read_csv(demo_dir / "truth_customers.csv", dtype={"customer_id": str}).set_index("customer_id")
    ari = adjusted_rand_score(truth.loc[labels.index, "type"], labels.to_numpy())
    assert result.k == 4 and ari >= 0.8, ari
    names = {c.name_ru for c in result.clusters}
    assert len(names) == 4 and any(n.startswith("Охотники за скидками") for n in names)
    assert any(n.startswith("Крупные чеки") for n in names) and any(n.startswith("Молодёжь") for n in names)
    assert sum(c.size for c in result.clusters) == len(features.frame)
    assert sum(c.revenue_share for c in result.clusters) == pytest.approx(1.0)
    scores = {s.k: s for s in result.k_scores}
    assert scores[4].silhouette == max(s.silhouette for s in result.k_scores)


def test_clusters_fitted_on_a_sample_still_recover_the_types(demo_features, demo_dir):
    """KMeans fitted on 2,000 of 20,000 customers (spread over spend), everyone assigned afterwards."""
    features, customers = demo_features
    result, labels, _ = analyze_segments(features, customers, SegmentsConfig(), sample_size=2000)
    assert (result.n_fitted, result.n_customers, len(labels)) == (2000, len(features.frame), len(features.frame))
    truth = pd.read_csv(demo_dir / "truth_customers.csv", dtype={"customer_id": str}).set_index("customer_id")
    ari = adjusted_rand_score(truth.loc[labels.index, "type"], labels.to_numpy())
    assert result.k == 4 and ari >= 0.8, ari


def test_spend_stratified_sample_keeps_the_spend_distribution():
    monetary = np.random.default_rng(1).lognormal(8, 1.2, 100_000)
    rows = spend_stratified_sample(monetary, 1000)
    assert len(rows) == len(set(rows)) == 1000
    qs = [0.1, 0.5, 0.9, 0.99]
    np.testing.assert_allclose(np.quantile(monetary[rows], qs), np.quantile(monetary, qs), rtol=0.05)


def test_quintile_scores_by_hand():
    recency = pd.Series([1, 5, 10, 20, 40, 80, 160, 200, 300, 365])
    # Ten customers: each pair of consecutive ranks shares a quintile; recent = 5.
    assert quintile_score(recency, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # Ties share a score.
    assert quintile_score(pd.Series([1, 1, 1, 1, 5])).tolist() == [3, 3, 3, 3, 5]  # mean rank 2.5 of 5


def test_rfm_small_example_by_hand():
    frame = pd.DataFrame({"id": list("abcde"), "recency_days": [2, 10, 200, 300, 5],
                          "orders": [20, 1, 15, 1, 2], "monetary": [90000, 500, 60000, 300, 1000]})
    scores = rfm_scores(frame)
    # F: one order is 1; the three who came back are ranked among themselves (quartiles above 1).
    assert scores.to_dict("list") == {"r": [5, 3, 2, 1, 4], "f": [5, 1, 4, 1, 3], "m": [5, 2, 4, 1, 3]}
    result, labels = analyze_rfm(frame)
    assert labels.to_dict() == {"a": "best", "b": "promising", "c": "cant_lose", "d": "lost", "e": "loyal"}
    assert sum(s.size for s in result.segments) == 5
    # Gone or going: can't lose (c) and lost (d), and how many of them each other list holds.
    assert (result.risk.customers, result.risk.share) == (2, 0.4)
    assert result.risk.revenue_share == pytest.approx(60300 / 151800)
    both = risk_overlaps(result.risk, labels, pd.Series(["c", "a", "x"]), pd.Series(["d", "c", "e"]))
    assert (both.on_target_list, both.slipping) == (1, 2)
    assert risk_overlaps(result.risk, labels, None, None).on_target_list is None


def test_rules_cover_every_customer_exactly_once():
    grid = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                        columns=["r", "f", "m"])
    labels = assign_segments(grid, DEFAULT_RULES)
    assert labels.notna().all() and "other" not in set(labels)  # default rules need no catch-all
    # A user's partial rule table still assigns everyone once: the rest fall into "other".
    partial = assign_segments(grid, (RfmRule("best", r=(5, 5), f=(5, 5)),))
    assert (partial == "best").sum() == 5 and (partial == "other").sum() == 120


@pytest.mark.skipif(not (DATASETS / "ecom_profiles").is_dir(), reason="shared/datasets/ecom_profiles not present")
def test_ecom_profiles_rfm_and_clusters(tmp_path):
    from campaign_report.pipeline.report import run_report

    outcome = run_report(ROOT / "examples" / "ecom_profiles" / "config.toml", tmp_path / "out")
    assert outcome.results.segments.k >= 2
    assert sum(s.size for s in outcome.results.rfm.segments) == 2451
    quality = {i.kind for q in outcome.results.data_quality for i in q.issues}
    assert "duplicate_rows" in quality or outcome.results.data_quality
    assert (tmp_path / "out" / "brief.pdf").stat().st_size > 10_000


def test_minibatch_above_threshold(demo_features):
    features, customers = demo_features
    result, labels, _ = analyze_segments(features, customers, SegmentsConfig(k=4, minibatch_above=1000))
    assert result.method == "minibatch_kmeans" and labels.nunique() == 4
    assert np.isfinite(result.silhouette)


def _headline_with_shares(results, shares, unflagged=None):
    """The segments section's headline after the clusters' (customer, revenue) shares are set."""
    import dataclasses

    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.sections.segments import segments_section
    from campaign_report.renderers.view_model import Summary

    seg = results.segments
    clusters = tuple(dataclasses.replace(c, share=s, revenue_share=r,
                                         revenue_share_unflagged=None if unflagged is None else unflagged[i])
                     for i, (c, (s, r)) in enumerate(zip(seg.clusters, shares, strict=False)))
    seg = dataclasses.replace(seg, clusters=clusters, k=len(clusters))
    changed = dataclasses.replace(results, segments=seg)
    return segments_section(Formatter("ru", "₽"), changed, "s", Summary()).headline.replace("\xa0", " ")


def test_the_headline_says_revenue_follows_size_only_when_it_does(small_run):
    """ecom_profiles was titled "revenue splits roughly by size" over its own chart of 25 % of customers with
    11 % of revenue and 13 % with 25 % (the latter through one flagged order line)."""
    results = small_run.results
    assert len(results.segments.clusters) >= 3
    even = _headline_with_shares(results, [(0.4, 0.42), (0.35, 0.33), (0.25, 0.25)])
    assert "примерно по их размеру" in even
    light = _headline_with_shares(results, [(0.25, 0.11), (0.5, 0.56), (0.25, 0.33)])
    assert "примерно" not in light and "только 11 % выручки" in light
    flagged = _headline_with_shares(results, [(0.13, 0.25), (0.5, 0.45), (0.37, 0.30)],
                                    unflagged=[0.14, 0.50, 0.36])
    assert "примерно" not in flagged and "без отмеченных крупных строк заказа — 14 %" in flagged
    weighty = _headline_with_shares(results, [(0.13, 0.30), (0.5, 0.45), (0.37, 0.25)])
    assert "13 % клиентов и 30 % выручки" in weighty


def test_the_portraits_title_names_the_cluster_that_stands_out_most(small_run):
    """The portraits slide said "the segments differ most by promo share and clothing": what the clusters were
    built on. It names the cluster whose strongest trait is furthest from the base, and no figure of its own (the
    card's figures are a share of spend; the trait's a mean of customers' shares: two values for one thing)."""
    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.sections.segments import segments_section
    from campaign_report.renderers.view_model import Summary

    results = small_run.results
    section = segments_section(Formatter("ru", "₽"), results, "s", Summary())
    standing = max(((abs(d.std_diff), c) for c in results.segments.clusters for d in c.distinctions[:1]),
                   key=lambda x: x[0])[1]
    title = section.headlines["portraits"]
    assert title.startswith(f"Сильнее всех выделяется «{standing.name_ru}»: ")
    assert not any(ch.isdigit() for ch in title.replace(standing.name_ru, ""))
