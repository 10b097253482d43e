"""Customer value from purchases alone: BG/NBD and Gamma-Gamma against a reference implementation, against
planted truths, and in the report.

Reference: `lifetimes` 0.11.3 (BetaGeoFitter, GammaGammaFitter, no penalty), run in a separate venv on a
summary of a simulated purchase log (tests/data/lifetime_reference.json says how it was made); our fit reads
the same (frequency, recency, T, monetary value) and must match its parameters and per-customer expectations
to 1 %.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from campaign_report.analysis.customers import btyd
from campaign_report.analysis.customers.lifetime import analyze_lifetime, customer_summary
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from tests.purchase_log import START, simulate_purchases

REFERENCE = json.loads((Path(__file__).parent / "data" / "lifetime_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference_fit():
    s = pd.DataFrame(REFERENCE["summary"])
    triples = s.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    bg = btyd.fit_bgnbd(triples["frequency"].to_numpy(), triples["recency"].to_numpy(), triples["T"].to_numpy(),
                        triples["n"].to_numpy())
    gg = btyd.fit_gamma_gamma(s["frequency"].to_numpy(), s["monetary_value"].to_numpy())
    return bg, gg


def test_parameters_match_lifetimes_to_one_percent(reference_fit):
    bg, gg = reference_fit
    for name, value in REFERENCE["bgnbd"]["params"].items():
        assert bg.params[name] == pytest.approx(value, rel=0.01), name
        assert bg.std_errors[name] == pytest.approx(REFERENCE["bgnbd"]["se"][name], rel=0.05), name
    assert bg.log_likelihood == pytest.approx(REFERENCE["bgnbd"]["loglik"], rel=1e-6)
    for name, value in REFERENCE["gamma_gamma"]["params"].items():
        assert gg.params[name] == pytest.approx(value, rel=0.01), name


@pytest.mark.parametrize("cases", ["fixed_cases", "first_50_customers"])
def test_per_customer_expectations_match_lifetimes(reference_fit, cases):
    bg, gg = reference_fit
    c = {k: np.asarray(v, dtype=float) for k, v in REFERENCE[cases].items() if k != "customer_id"}
    x, t_x, t, m = c["frequency"], c["recency"], c["T"], c["monetary_value"]
    np.testing.assert_allclose(btyd.p_alive(bg.params, x, t_x, t), c["p_alive"], rtol=0.01, atol=1e-4)
    np.testing.assert_allclose(btyd.expected_purchases(bg.params, 52, x, t_x, t), c["cond_expected_purchases_t52"],
                               rtol=0.01)
    np.testing.assert_allclose(btyd.expected_spend(gg.params, x, m), c["gg_cond_expected_avg_profit"], rtol=0.01)
    for horizon, value in REFERENCE["expected_number_of_purchases_up_to_time"].items():
        assert btyd.expected_purchases_new(bg.params, np.array([float(horizon)]))[0] == pytest.approx(value, rel=0.01)


def _engine_with(lines: pd.DataFrame) -> DuckDBEngine:
    engine = DuckDBEngine()
    frame = lines.assign(customer_id=lines["customer_id"].astype(str),
                         date=pd.Timestamp(START) + pd.to_timedelta(lines["day"], unit="D"))
    engine.register("_lines", frame[["customer_id", "date", "amount"]])
    engine.table("tx", "SELECT customer_id, customer_id || '|' || CAST(CAST(date AS DATE) AS VARCHAR) AS order_id, "
                       "CAST(date AS DATE) AS date, amount FROM _lines")
    return engine


def test_the_summary_counts_purchase_days_by_hand():
    # a: three purchase days (two lines on the second), b: one purchase. The window ends on day 70.
    lines = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"], "day": [0, 14, 14, 28, 7],
                          "amount": [10.0, 5.0, 15.0, 30.0, 8.0]})
    summary = customer_summary(_engine_with(lines), date(1997, 3, 13)).set_index("id")  # day 71, exclusive
    assert summary.loc["a", ["x", "t_x", "t"]].tolist() == [2.0, 4.0, 10.0]
    assert summary.loc["a", "m"] == pytest.approx((20 + 30) / 2)  # repeat days' spend, the first left out
    assert summary.loc["b", ["x", "t_x", "t", "m"]].tolist() == [0.0, 0.0, 9.0, 0.0]


@pytest.fixture(scope="module")
def simulated():
    log = simulate_purchases(20_000, seed=2)
    engine = _engine_with(log.lines)
    result, values = analyze_lifetime(engine, START, START + timedelta(days=78 * 7), 365, None, None, None)
    return log, result, values


def test_the_planted_parameters_are_recovered_and_the_checks_pass(simulated):
    log, result, _ = simulated
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for p in result.bgnbd:
        assert p.ci_low <= truth[p.name] <= p.ci_high or p.value == pytest.approx(truth[p.name], rel=0.1), p
    assert result.fits and result.value_scale == 1.0 and abs(result.holdout.error) < 0.1
    assert result.spend_check.gamma_gamma and result.model == "bgnbd+gamma_gamma"
    assert result.frequency_check.mean_share_error < 0.01


def test_p_alive_finds_who_is_still_alive(simulated):
    log, _, values = simulated
    joined = values.assign(id=values["id"].astype(int)).merge(log.truth, left_on="id", right_on="customer_id")
    repeat = joined[joined["x"] > 0]
    assert roc_auc_score(repeat["alive"], repeat["p_alive"]) > 0.8
    # The slipping-away list is mostly customers who really left.
    slipping = joined[joined["slipping_away"]]
    assert len(slipping) > 100 and (~slipping["alive"]).mean() > 0.8


def test_a_model_that_cannot_rank_is_said_not_to_fit():
    """Customers who never leave and buy at one common rate: history says nothing about who buys next."""
    rng = np.random.default_rng(0)
    n, days = 3000, 546
    counts = rng.poisson(6, n)
    lines = pd.DataFrame({"customer_id": np.repeat(np.arange(n), counts),
                          "day": np.concatenate([np.sort(rng.integers(0, days, c)) for c in counts]),
                          "amount": 20.0})
    engine = _engine_with(lines)
    result, _ = analyze_lifetime(engine, START, START + timedelta(days=days), 365, None, None, None)
    assert not result.fits and result.slipping is None


def test_the_demo_report_shows_value_and_slipping_customers(small_run, small_demo):
    results = small_run.results
    life = results.lifetime
    assert life is not None and life.fits and life.slipping is not None and life.slipping.size > 0
    assert {s.kind for s in life.segments} == {"cluster", "rfm"}
    frame = pd.read_csv(small_run.output_dir / "customer_value.csv", dtype={"customer_id": str})
    assert list(frame.columns)[:4] == ["customer_id", "p_alive", "expected_purchases", "expected_value"]
    assert "segment" in frame and int(frame["slipping_away"].sum()) == life.slipping.size
    # The planted decline shows in P(alive): customers the demo made likely to decline look less alive.
    truth = pd.read_csv(small_demo / "truth_customers.csv", dtype={"customer_id": str})
    joined = frame.merge(truth, on="customer_id")
    rho, p = spearmanr(joined["p_alive"], joined["p_decline"])
    assert rho < -0.3 and p < 1e-6
    data = json.loads((small_run.output_dir / "results.json").read_text(encoding="utf-8"))
    assert {"model", "params", "holdout_check", "segments"} <= set(data["lifetime"])
    assert {"r", "alpha", "a", "b"} <= set(data["lifetime"]["params"])
