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
from campaign_report.analysis.experiment.sums import CellSums, ExperimentSums, sums_from_frame
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


# Fixed-horizon: the reference values below are scipy's and statsmodels' (tests/test_sequential.py checks the
# confidence sequence).
SETTINGS = ExperimentConfig(start="2026-10-01", end="2026-10-31", sequential=False)


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


def test_every_planted_truth_lies_inside_the_reported_interval(demo_units, demo_dir):
    """Each planted effect of the demo is inside the interval the readout reports (a planted truth that
    ignored lines per order, price offsets or the promo discount fell outside), and CUPED narrows."""
    truth = load_truth(demo_dir)
    with_cuped = readout(demo_units)
    without = readout(demo_units, dataclasses.replace(SETTINGS, cuped=False))
    result = {m.metric: m for m in with_cuped.metrics}
    planted_rel = {"conversion": truth.conversion_rel_lift, "average_check": truth.average_check_rel_lift,
                   "arpu": truth.arpu_rel_lift}
    planted_abs = {"conversion": truth.conversion_abs_lift, "arpu": truth.arpu_abs_lift}
    for metric, planted in planted_rel.items():
        assert result[metric].rel_ci_low <= planted <= result[metric].rel_ci_high, (metric, planted)
        assert result[metric].significant
    for metric, planted in planted_abs.items():
        assert result[metric].ci_low <= planted <= result[metric].ci_high, (metric, planted)
    # The truths are not trivially inside: each is within half an interval width of the estimate.
    arpu = result["arpu"]
    assert abs(arpu.abs_diff - truth.arpu_abs_lift) < (arpu.ci_high - arpu.ci_low) / 2
    assert with_cuped.decision.verdict == "win"
    plain = {m.metric: m for m in without.metrics}
    for metric in ("arpu", "orders_per_customer", "conversion"):
        assert result[metric].ci_high - result[metric].ci_low < plain[metric].ci_high - plain[metric].ci_low
        assert result[metric].variance_reduction > 0


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


# --- Simulations on sufficient statistics: each group's mean vector is drawn from N(μ, Σ/n), the sample
# covariance kept, so a readout costs no rows and 2,000 of them take seconds.

def _population(rng, n):
    """One arm's six outcomes with a pre-period that predicts the campaign's revenue."""
    level = rng.lognormal(6, 0.8, n)
    converted = rng.random(n) < 0.3
    orders = converted * (1 + rng.poisson(0.4, n))
    revenue = orders * level * rng.lognormal(0, 0.4, n)
    pre_orders = rng.poisson(1.0, n)
    pre_revenue = pre_orders * level * rng.lognormal(0, 0.4, n)
    x = np.vstack([converted, orders, revenue, pre_orders > 0, pre_orders, pre_revenue]).astype(float)
    return x.mean(axis=1), np.cov(x)


def _draw_cell(rng, n, mean, cov):
    m = rng.multivariate_normal(mean, cov / n)
    return CellSums(n=n, sums=tuple(n * m), cross=tuple(map(tuple, (n - 1) * cov + n * np.outer(m, m))))


def _simulated_readouts(settings, arms, runs, seed, shift_arm=None, shift=0.0):
    """`runs` readouts of control + `arms` treatments of 5,000 customers; `shift_arm`'s true revenue is
    higher by `shift` (conversion and orders unchanged)."""
    mean, cov = _population(np.random.default_rng(0), 200_000)  # the same population in every call
    rng = np.random.default_rng(seed)
    n = 5000
    out = []
    for _ in range(runs):
        cells = {"control": _draw_cell(rng, n, mean, cov)}
        for arm in arms:
            mu = mean.copy()
            if arm == shift_arm:
                mu[2] += shift
            cells[arm] = _draw_cell(rng, n, mu, cov)
        out.append(analyze_experiment(ExperimentSums(cells, {}), settings, "control", 0))
    return out


@pytest.mark.parametrize(("settings", "arms"), [
    (ExperimentConfig(metrics=("arpu", "conversion"), family="all"), ("b",)),           # Holm over 2
    (ExperimentConfig(metrics=("arpu", "conversion"), family="primary"), ("b", "c")),   # Holm over 2 arms
    (ExperimentConfig(metrics=("arpu",), correction="none"), ("b",)),
])
def test_power_at_the_reported_mde_is_the_promised_80_percent(settings, arms):
    """A true effect of exactly the reported MDE is called a win 78-82 % of the time under the correction
    the decisions use (before: MDE at the unadjusted α gave 57 % significant over a family of 8)."""
    first = _simulated_readouts(settings, arms, 1, seed=1)[0]
    arpu = next(m for m in first.metrics if m.metric == "arpu" and m.treatment == "b")
    assert arpu.family_size == {"all": len(settings.metrics) * len(arms), "primary": len(arms)}[settings.family]
    runs = _simulated_readouts(settings, arms, 2000, seed=2, shift_arm="b", shift=arpu.mde_abs)
    wins = np.mean([next(d for d in r.decisions if d.treatment == "b").verdict == "win" for r in runs])
    assert 0.78 <= wins <= 0.82, wins


def test_power_at_the_mde_is_a_floor_when_other_tests_move_too():
    """Over all four metrics the average check moves with revenue, so Holm steps down and the power at
    the MDE is above 80 %: the MDE is the worst case (nothing else significant), never an overstatement."""
    settings = ExperimentConfig(metrics=("arpu", "conversion", "orders_per_customer", "average_check"))
    arpu = next(m for m in _simulated_readouts(settings, ("b",), 1, seed=1)[0].metrics if m.metric == "arpu")
    assert arpu.family_size == 4
    runs = _simulated_readouts(settings, ("b",), 1000, seed=5, shift_arm="b", shift=arpu.mde_abs)
    assert 0.78 <= np.mean([r.decisions[0].verdict == "win" for r in runs]) <= 0.90


def test_every_interval_shown_agrees_with_the_decision():
    """Under Holm, BH and no correction, over metrics, arms and segments: an interval excludes zero
    exactly when the adjusted p-value decides "significant" (before: 20 % of verdicts disagreed)."""
    checked = significant = 0
    for correction in ("holm", "bh", "none"):
        settings = ExperimentConfig(correction=correction)
        for r in _simulated_readouts(settings, ("b", "c"), 150, seed=3, shift_arm="b", shift=60.0):
            for m in r.metrics:
                assert (m.ci_low > 0 or m.ci_high < 0) == m.significant, m
                assert (m.rel_ci_low > 0 or m.rel_ci_high < 0) == m.significant, m
                assert m.ci_level >= settings.confidence - 1e-12
                checked += 1
                significant += m.significant
    assert 0.1 < significant / checked < 0.9


def test_segment_intervals_agree_with_their_adjusted_p_values():
    units = _units(3000, 3000, 0.3, 0.34)
    seg = pd.Series(np.arange(6000) % 4, index=units["customer_id"]).astype(str)
    result = readout(units, segments={"quarter": seg})
    assert result.by_segment
    for e in result.by_segment:
        assert (e.ci_low > 0 or e.ci_high < 0) == e.significant
        assert (e.rel_ci_low > 0 or e.rel_ci_high < 0) == e.significant


def test_arms_that_disagree_make_a_mixed_decision():
    a = _units(4000, 4000, 0.3, 0.37, seed=1)
    b = _units(4000, 4000, 0.3, 0.23, seed=2)
    b = b[b["grp"] == "treatment"].assign(grp="treatment_b", customer_id=lambda d: "b" + d["customer_id"])
    result = readout(pd.concat([a, b]), ExperimentConfig(metrics=("conversion", "arpu"), primary="conversion"))
    assert {d.treatment: d.verdict for d in result.decisions} == {"treatment": "win", "treatment_b": "loss"}
    assert result.decision.verdict == "mixed" and result.decision.treatment == ""


def test_cuped_label_only_where_the_covariate_adjusted():
    """No pre-period conversion variance: conversion is not "+cuped" although ARPU is."""
    units = _units(3000, 3000, 0.3, 0.33)
    rng = np.random.default_rng(4)
    units["pre_revenue"] = units["revenue"] * rng.lognormal(0, 0.5, len(units)) + rng.lognormal(5, 1, len(units))
    result = {m.metric: m for m in readout(units).metrics}
    assert result["arpu"].cuped and result["arpu"].method.endswith("+cuped")
    assert not result["conversion"].cuped and not result["conversion"].method.endswith("+cuped")
    assert result["conversion"].variance_reduction is None


def _daily(seed, promo_lift):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-11-01", "2026-10-31", freq="D")
    rate = 200 * np.where(dates.day_of_week >= 5, 1.25, 1.0) * (1 + 0.1 * np.arange(len(dates)) / len(dates))
    rate = rate * np.where(dates.day == 15, 1 + promo_lift, 1.0)
    orders = rng.poisson(rate * rng.lognormal(0, 0.08, len(dates)))
    return pd.DataFrame({"date": dates, "orders": orders.astype(float), "revenue": orders * 3000.0})


def test_placebo_days_separate_a_real_promo_from_noise():
    """With +30 % on the 15th, the promo day beats all 25 placebo days (days 14-16 left out); without
    an effect, the placebo p-value is near uniform (at most a quarter of 40 series below 0.1)."""
    from campaign_report.analysis.config import ObservationalConfig
    from campaign_report.analysis.experiment.observational import estimate_promo_days

    banner = ObservationalConfig(name="banner", days_of_month=(15,))
    orders = next(e for e in estimate_promo_days(_daily(1, 0.30), banner, 0.95) if e.outcome == "orders")
    assert len(orders.placebo_effects) == 25 and "15" not in orders.placebo_days and "14" not in orders.placebo_days
    assert orders.placebo_p == pytest.approx(1 / 26) and orders.placebo_as_large == 0
    assert max(orders.placebo_effects) < 0.1 < orders.rel_effect
    null = [next(e for e in estimate_promo_days(_daily(s, 0.0), banner, 0.95) if e.outcome == "orders").placebo_p
            for s in range(40)]
    assert np.mean(np.array(null) <= 0.1) <= 0.25


def test_observational_banner_has_placebo_days_in_the_report(small_run):
    orders = next(o for o in small_run.results.experiment.observational if o.outcome == "orders")
    assert len(orders.placebo_effects) == len(orders.placebo_days) == 25
    assert orders.placebo_p < 0.1


def test_two_winning_arms_are_compared_head_to_head_like_scipy():
    """Both arms beat control; the better one is named against the other by a Welch test on ARPU (scipy),
    Bonferroni over the one comparison, with the interval at that level."""
    from scipy import stats as sps

    a = _units(5000, 5000, 0.2, 0.32, seed=3)
    b = _units(5000, 5000, 0.2, 0.26, seed=4)
    b = b[b["grp"] == "treatment"].assign(grp="treatment_b", customer_id=lambda d: "b" + d["customer_id"])
    units = pd.concat([a, b])
    result = readout(units, dataclasses.replace(SETTINGS, cuped=False))
    assert {d.treatment for d in result.decisions if d.verdict == "win"} == {"treatment", "treatment_b"}
    (h,) = result.head_to_head
    assert (h.better, h.other, h.metric) == ("treatment", "treatment_b", "arpu")
    y_a = units.loc[units["grp"] == "treatment", "revenue"]
    y_b = units.loc[units["grp"] == "treatment_b", "revenue"]
    ref = sps.ttest_ind(y_a, y_b, equal_var=False)
    assert h.abs_diff == pytest.approx(y_a.mean() - y_b.mean(), rel=1e-12)
    assert h.p_adjusted == pytest.approx(ref.pvalue, rel=1e-9)
    low, high = ref.confidence_interval(0.95)
    assert (h.ci_low, h.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert h.significant == (ref.pvalue < 0.05)


def test_one_winner_is_compared_with_the_arm_that_showed_nothing():
    """"Roll out A, not B" reads as "A beats B": the winner is compared with the other arm directly (Welch,
    like scipy), so the documents can say when the test cannot tell the two apart."""
    from scipy import stats as sps

    a = _units(5000, 5000, 0.2, 0.32, seed=5)
    b = _units(5000, 5000, 0.2, 0.2, seed=6)
    b = b[b["grp"] == "treatment"].assign(grp="treatment_b", customer_id=lambda d: "b" + d["customer_id"])
    units = pd.concat([a, b])
    result = readout(units, dataclasses.replace(SETTINGS, cuped=False))
    verdicts = {d.treatment: d.verdict for d in result.decisions}
    assert verdicts["treatment"] == "win" and verdicts["treatment_b"] != "win"
    (h,) = result.head_to_head
    assert (h.better, h.other) == ("treatment", "treatment_b")
    y_a = units.loc[units["grp"] == "treatment", "revenue"]
    y_b = units.loc[units["grp"] == "treatment_b", "revenue"]
    assert h.p_adjusted == pytest.approx(sps.ttest_ind(y_a, y_b, equal_var=False).pvalue, rel=1e-9)


def test_a_win_below_its_mde_is_flagged_as_likely_overstated(small_run):
    """Type M error: a significant lift smaller than the test's MDE; not flagged when beyond it or not significant."""
    import dataclasses

    m = small_run.results.experiment.decided_on("treatment")
    assert m.significant
    assert not dataclasses.replace(m, mde=abs(m.rel_lift) / 1.5).likely_overstated
    assert dataclasses.replace(m, mde=abs(m.rel_lift) * 1.5).likely_overstated
    assert not dataclasses.replace(m, mde=abs(m.rel_lift) * 1.5, significant=False).likely_overstated


def test_strongest_segment_only_when_its_interval_clears_the_others(small_run):
    """The demo's title said "strongest response: deal seekers +91 %" over intervals of 68–118 % and 27–97 %:
    with overlapping intervals the highest estimate is said as an estimate."""
    import dataclasses

    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.sections.experiment import experiment_section
    from campaign_report.renderers.view_model import Summary

    results = small_run.results
    exp = results.experiment
    clusters = [e for e in exp.by_segment if e.dimension == "cluster" and e.metric == exp.primary]
    first = clusters[0].treatment
    clusters = [e for e in clusters if e.treatment == first]
    assert len(clusters) >= 2

    def headline(bounds):
        planted = {id(e): b for e, b in zip(clusters, bounds, strict=False)}
        rows = tuple(dataclasses.replace(e, rel_lift=(planted[id(e)][0] + planted[id(e)][1]) / 2,
                                         rel_ci_low=planted[id(e)][0], rel_ci_high=planted[id(e)][1])
                     if id(e) in planted else e for e in exp.by_segment)
        het = tuple(dataclasses.replace(h, differ=True) for h in exp.heterogeneity)
        changed = dataclasses.replace(results, experiment=dataclasses.replace(exp, by_segment=rows,
                                                                              heterogeneity=het))
        section = experiment_section(Formatter("ru", "₽"), changed, "s", Summary())
        return section.headlines["segment_lift"]

    others = [(-0.1, 0.1)] * (len(clusters) - 1)
    assert headline([(0.68, 1.18), (0.27, 0.97), *others[1:]]).startswith("Отклик различается; выше всего")
    assert headline([(0.68, 1.18), (0.0, 0.3), *others[1:]]).startswith("Сильнее всего откликнулись")


def test_the_next_test_is_the_segment_where_the_campaign_works_more_strongly(demo_units, demo_dir, small_run):
    """The demo plants an ARPU effect of +88 % on deal seekers against +36 % overall (cut by the planted customer
    type). The readout finds that segment above the average effect, and the hypothesis is sized for its corrected
    lower interval end (below the planted effect: the strongest segment's estimate is the one most likely
    inflated), with the promised power to tell that effect from the average. Segments alike give no hypothesis,
    and the next step then says what a test can detect instead."""
    from scipy.stats import norm

    from campaign_report.analysis.experiment.plan import segment_hypothesis
    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.sections.next_steps import next_steps

    truth = load_truth(demo_dir)
    planted = pd.read_csv(demo_dir / "truth_customers.csv", dtype={"customer_id": str}).set_index("customer_id")
    result = readout(demo_units, settings=dataclasses.replace(SETTINGS, segment_by=("type",)),
                     segments={"type": planted["type"]})
    h = segment_hypothesis(result, 0.8)
    assert h is not None and (h.dimension, h.segment) == ("type", "promo_hunters")
    assert h.overall_lift < h.expected <= truth.arpu_rel_lift_by_type["promo_hunters"] <= h.rel_ci_high
    effect = next(e for e in result.by_segment if e.dimension == h.dimension and e.segment == h.segment
                  and e.treatment == h.treatment and e.metric == h.metric)
    se_then = effect.std_error / effect.control_value * (h.per_arm_now / h.per_arm) ** 0.5
    margin = h.expected - h.overall_lift  # what the test must tell apart: the segment's effect from the average
    assert norm.cdf(margin / se_then - norm.ppf(1 - (1 - result.confidence) / 2)) == pytest.approx(0.8, abs=0.01)
    alike = dataclasses.replace(result, heterogeneity=tuple(dataclasses.replace(x, differ=False)
                                                            for x in result.heterogeneity))
    assert segment_hypothesis(alike, 0.8) is None
    # The step: the hypothesis when there is one, else the plan.
    exp = small_run.results.experiment
    worded = dataclasses.replace(small_run.results, experiment=dataclasses.replace(
        exp, hypothesis=dataclasses.replace(h, dimension="cluster", segment="Охотники за скидками")))
    assert next_steps(Formatter("ru", "₽"), worded)[-1].startswith(
        "Следующий тест — гипотеза: на кластер «Охотники за скидками» вариант")
    plain = dataclasses.replace(small_run.results, experiment=dataclasses.replace(exp, hypothesis=None))
    assert "гипотеза" not in next_steps(Formatter("ru", "₽"), plain)[-1]
