"""The readout engine on the demo's planted truths, A/A simulations and bad-input cases."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from campaign_report.analysis.config import ExperimentConfig, load_config
from campaign_report.analysis.data.clean import clean_experiment, clean_transactions
from campaign_report.analysis.data.features import experiment_outcomes
from campaign_report.analysis.data.load import load_raw
from campaign_report.analysis.demo import load_truth
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.analysis.experiment.readout import METRIC_COLUMNS, _moments, analyze_experiment
from campaign_report.analysis.experiment.stats import GroupMoments, compare
from campaign_report.analysis.experiment.sums import sums_from_frame
from tests.conftest import DATASETS, ROOT, demo_config, write_config


@pytest.fixture(scope="module")
def demo_units(demo_dir: Path, tmp_path_factory) -> pd.DataFrame:
    """Per-customer outcomes of the full demo's experiment, through the engine's own loading."""
    work = tmp_path_factory.mktemp("units")
    config = load_config(write_config(work, demo_config(demo_dir, work / "out")))
    engine = DuckDBEngine()
    tx = load_raw(engine, config.tables["transactions"], work)
    clean_transactions(engine, tx, config.tables["transactions"], pd.Timestamp("2026-11-22"))
    exp = load_raw(engine, config.tables["experiment"], work)
    assignment, _ = clean_experiment(engine, exp, config.tables["experiment"])
    engine.register("assigned", assignment[["customer_id", "grp"]])
    experiment_outcomes(engine, "assigned", (pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-10-31").date()))
    units = engine.frame("SELECT * FROM exp_units ORDER BY customer_id")
    engine.close()
    return units


SETTINGS = ExperimentConfig(start="2026-10-01", end="2026-10-31")


def readout(units, settings=SETTINGS, segments=None):
    return analyze_experiment(sums_from_frame(units, segments), settings, "control", 0)


def test_engine_sums_give_the_moments_of_the_rows(demo_units):
    """n, Σx, Σxxᵀ from SQL reproduce the two-pass means and covariances of every metric (1e-9)."""
    sums = sums_from_frame(demo_units)
    for grp, cell in sums.groups.items():
        rows = demo_units[demo_units["grp"] == grp]
        for metric, cols in METRIC_COLUMNS.items():
            arrays = [None if c is None else rows[c].to_numpy(float) for c in cols]
            ref = GroupMoments.from_arrays(*arrays)
            got = _moments(cell, metric)
            assert got.n == ref.n
            np.testing.assert_allclose(got.mean, ref.mean, rtol=1e-12)
            np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-9, atol=1e-9 * np.abs(ref.cov).max())


def test_planted_effects_recovered_and_cuped_narrows(demo_units, demo_dir):
    truth = load_truth(demo_dir)
    with_cuped = readout(demo_units)
    without = readout(demo_units, dataclasses.replace(SETTINGS, cuped=False))
    rel = {m.metric: m for m in with_cuped.metrics}
    for metric, planted in (("conversion", truth.conversion_rel_lift), ("average_check", truth.average_check_rel_lift),
                            ("arpu", truth.arpu_rel_lift)):
        assert rel[metric].rel_ci_low <= planted <= rel[metric].rel_ci_high, metric
        assert rel[metric].significant
    assert with_cuped.decision.verdict == "win"
    plain = {m.metric: m for m in without.metrics}
    for metric in ("arpu", "orders_per_customer", "conversion"):
        assert rel[metric].ci_high - rel[metric].ci_low < plain[metric].ci_high - plain[metric].ci_low
        assert rel[metric].variance_reduction > 0


def test_aa_false_positive_rate_on_demo(demo_units):
    """2,000 random splits of the control arm: about 5 % false positives per metric."""
    control = demo_units[demo_units["grp"] == "control"]
    rng = np.random.default_rng(20261122)
    cols = {"arpu": ("revenue", None, "pre_revenue", None), "conversion": ("converted", None, "pre_converted", None),
            "average_check": ("revenue", "orders", "pre_revenue", "pre_orders")}
    arrays = {k: [None if c is None else control[c].to_numpy(float) for c in v] for k, v in cols.items()}
    hits = dict.fromkeys(cols, 0)
    runs = 2000
    for _ in range(runs):
        mask = rng.random(len(control)) < 0.5
        for metric, (y, d, u, w) in arrays.items():
            part = lambda a, m: None if a is None else a[m]  # noqa: E731
            c = compare(GroupMoments.from_arrays(part(y, ~mask), part(d, ~mask), part(u, ~mask), part(w, ~mask)),
                        GroupMoments.from_arrays(part(y, mask), part(d, mask), part(u, mask), part(w, mask)),
                        cuped=True, use_t=metric != "conversion")
            hits[metric] += c.p_value < 0.05
    for metric, n in hits.items():
        assert 0.035 <= n / runs <= 0.065, (metric, n / runs)


def _units(n_c, n_t, conv_c=0.3, conv_t=0.3, seed=0):
    rng = np.random.default_rng(seed)
    grp = np.array(["control"] * n_c + ["treatment"] * n_t)
    conv = rng.random(n_c + n_t) < np.where(grp == "control", conv_c, conv_t)
    orders = conv * (1 + rng.poisson(0.3, n_c + n_t))
    revenue = orders * rng.lognormal(7, 0.5, n_c + n_t)
    return pd.DataFrame({"customer_id": np.arange(n_c + n_t).astype(str), "grp": grp, "converted": conv.astype(float),
                         "orders": orders.astype(float), "revenue": revenue, "pre_converted": 0.0,
                         "pre_orders": 0.0, "pre_revenue": 0.0})


def test_srm_blocks_a_win():
    units = _units(4000, 5000, 0.2, 0.3)
    result = readout(units)
    assert not result.srm.ok and result.decision.verdict == "invalid"
    assert "srm_failed" in result.decision.reasons


def test_saturated_conversion_is_invalid():
    # The seed report: control converting at 99.7 % because control ids were drawn from buyers.
    units = _units(3000, 3000, 0.997, 0.93)
    result = readout(units)
    assert result.decision.verdict == "invalid" and "conversion_saturated" in result.decision.reasons


def test_non_significant_is_no_detectable_effect_not_a_win():
    units = _units(2000, 2000, 0.3, 0.31, seed=3)
    result = readout(units)
    arpu = next(m for m in result.metrics if m.metric == "arpu")
    assert not arpu.significant and result.decision.verdict == "no_detectable_effect"
    assert arpu.mde > 0


def test_three_groups_holm_adjusted():
    a, b = _units(3000, 3000, 0.3, 0.36, seed=1), _units(3000, 3000, 0.3, 0.3, seed=2)
    b = b[b["grp"] == "treatment"].assign(grp="treatment_b", customer_id=lambda d: "b" + d["customer_id"])
    result = readout(pd.concat([a, b]))
    assert len(result.metrics) == 2 * len(SETTINGS.metrics)
    assert all(m.p_adjusted >= m.p_value - 1e-12 for m in result.metrics)
    verdicts = {d.treatment: d.verdict for d in result.decisions}
    assert verdicts == {"treatment": "win", "treatment_b": "no_detectable_effect"}


def test_segment_effects_are_bh_adjusted_and_exploratory():
    units = _units(3000, 3000, 0.3, 0.36)
    seg = pd.Series(np.where(np.arange(6000) % 2, "A", "B"), index=units["customer_id"])
    result = readout(units, segments={"half": seg})
    rows = [e for e in result.by_segment if e.metric == "arpu"]
    assert {e.segment for e in rows} == {"A", "B"} and all(e.p_adjusted >= e.p_value for e in rows)


def test_observational_banner_recovered(small_run, small_demo):
    truth = load_truth(small_demo)
    orders = next(o for o in small_run.results.experiment.observational if o.outcome == "orders")
    assert orders.ci_low <= truth.banner_rel_lift <= orders.ci_high
    assert orders.method.startswith("ols_log_daily")


@pytest.mark.skipif(not (DATASETS / "hillstrom").is_dir(), reason="shared/datasets/hillstrom not present")
def test_hillstrom_readout(tmp_path):
    from campaign_report.pipeline.report import run_report

    config = ROOT / "examples" / "hillstrom" / "config.toml"
    outcome = run_report(config, tmp_path / "out")
    exp = outcome.results.experiment
    assert {g.name: g.n for g in exp.groups} == {"No E-Mail": 21306, "Mens E-Mail": 21307, "Womens E-Mail": 21387}
    conv = {m.treatment: m for m in exp.metrics if m.metric == "conversion"}
    assert conv["Mens E-Mail"].control_value == pytest.approx(0.00573, abs=1e-5)
    assert conv["Mens E-Mail"].treatment_value == pytest.approx(0.01253, abs=1e-5)
    assert conv["Mens E-Mail"].significant and conv["Womens E-Mail"].significant
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(data["experiment"]["decisions"]) == 2


def test_window_outside_the_data_is_invalid_with_a_reason(small_demo, tmp_path):
    from campaign_report.pipeline.report import run_report

    text = demo_config(small_demo, tmp_path / "out").replace('start = "2026-10-01"', 'start = "2025-01-01"').replace(
        'end = "2026-10-31"', 'end = "2025-01-31"')
    decision = run_report(write_config(tmp_path, text)).results.experiment.decision
    assert decision.verdict == "invalid" and "no_data_in_window" in decision.reasons
