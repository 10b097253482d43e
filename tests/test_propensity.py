"""The propensity model on planted drivers, the leakage guard, id exclusion, gender recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from campaign_report.analysis.config import PropensityConfig
from campaign_report.analysis.model.impute import impute_attribute
from campaign_report.analysis.model.propensity import (
    Candidate,
    choose_model,
    fit_propensity,
    select_features,
)
from tests.conftest import DATASETS, ROOT

FAST = PropensityConfig(models=("logreg", "tree", "boosting"), n_iter=3, search_sample=3000, cv_folds=3)


@pytest.fixture(scope="module")
def demo_model_table(demo_dir):
    from campaign_report.analysis.demo import load_truth

    tx = pd.read_csv(demo_dir / "transactions.csv")
    tx = tx[tx["amount"] > 0].drop_duplicates()
    as_of = pd.Timestamp("2026-11-01")
    g = tx.groupby("customer_id")
    table = pd.DataFrame({
        "recency_days": (as_of - pd.to_datetime(g["date"].max())).dt.days.astype(float),
        "orders": g["order_id"].nunique().astype(float), "monetary": g["amount"].sum(),
        "promo_share": g["is_promo"].mean()})
    table["average_check"] = table["monetary"] / table["orders"]
    customers = pd.read_csv(demo_dir / "customers.csv").set_index("customer_id")
    table = table.join(customers[["age", "city"]])
    truth = pd.read_csv(demo_dir / "truth_customers.csv").set_index("customer_id")
    table["customer_id"] = table.index
    y = (customers.loc[table.index, "activity"] == "Снизилась").to_numpy()
    p_true = truth.loc[table["customer_id"], "p_decline"].to_numpy()
    return table.reset_index(drop=True), y, p_true, load_truth(demo_dir)


def test_planted_drivers_rank_top_and_auc_near_truth(demo_model_table):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    table, y, p_true, truth = demo_model_table
    result = fit_propensity(table, y, FAST, "activity", "label", exclude=set()).result
    top3 = {i.feature for i in result.importance[:3]}
    assert top3 == set(truth.label_drivers), result.importance[:4]
    # The same holdout split as fit_propensity: the true probabilities' AUC there is the ceiling.
    _, _, _, y_hold, _, p_hold = train_test_split(table, y, p_true, test_size=FAST.holdout_share, stratify=y,
                                                  random_state=FAST.seed)
    assert abs(result.holdout.roc_auc - roc_auc_score(y_hold, p_hold)) <= 0.03
    assert "customer_id" in result.excluded_features  # id-like, excluded automatically
    assert not result.warnings
    assert result.holdout.threshold_rule == "max_f1_oof" and 0 < result.holdout.threshold < 1
    assert result.gains[-1][1] == pytest.approx(1.0) and result.gains[2][1] > 0.3


def test_planted_leak_triggers_guard(demo_model_table):
    table, y, _, _ = demo_model_table
    rng = np.random.default_rng(0)
    leaky = table.assign(bonus_flag=y + rng.normal(0, 0.05, len(y)))
    result = fit_propensity(leaky, y, FAST, "activity", "label", exclude=set()).result
    assert "single_feature_leak" in result.warnings
    assert [f for f, _ in result.leak_features] == ["bonus_flag"]


def test_select_features_drops_ids_and_constants():
    frame = pd.DataFrame({"client_id": range(100), "code": [f"x{i}" for i in range(100)], "const": 1.0,
                          "spend": np.linspace(0, 1, 100), "city": ["a", "b"] * 50})
    numeric, categorical, dropped = select_features(frame, set())
    assert numeric == ["spend"] and categorical == ["city"]
    assert set(dropped) == {"client_id", "code", "const"}


def test_one_standard_error_rule_prefers_simple_model():
    cands = [Candidate("svc", 0.865, 0.01, {}, 4.0), Candidate("logreg", 0.861, 0.01, {}, 1.0),
             Candidate("knn", 0.80, 0.01, {}, 1.0)]
    assert choose_model(cands, 5) == "logreg"
    assert choose_model([Candidate("svc", 0.90, 0.001, {}, 1), Candidate("logreg", 0.86, 0.001, {}, 1)], 5) == "svc"


def test_choice_uses_paired_fold_differences():
    """Fold scores move together (some folds are harder for every model): a gap of 0.01 that holds on every
    fold is real although it is smaller than the folds' spread, and a gap that flips sign is noise.
    Before, the best model's unpaired SE (0.05 / √5 = 0.022) hid the real gap and picked the weaker model."""
    folds = np.array([0.80, 0.85, 0.90, 0.95, 0.88])
    forest = Candidate("forest", float(folds.mean()) + 0.01, float(folds.std()), {}, 1.0, tuple(folds + 0.01))
    logreg = Candidate("logreg", float(folds.mean()), float(folds.std()), {}, 1.0, tuple(folds))
    assert choose_model([forest, logreg], 5) == "forest"
    noisy = tuple(folds + np.array([0.02, -0.02, 0.02, -0.02, 0.01]))
    forest_noise = Candidate("forest", float(np.mean(noisy)), float(np.std(noisy)), {}, 1.0, noisy)
    assert choose_model([forest_noise, logreg], 5) == "logreg"
    # KNN is not "simpler" than boosting: among equals, boosting is chosen.
    tie = tuple(folds)
    assert choose_model([Candidate("knn", 0.876, 0.05, {}, 1, tie), Candidate("boosting", 0.876, 0.05, {}, 1, tie)],
                        5) == "boosting"


def test_gender_recovered_with_f1(demo_dir):
    customers = pd.read_csv(demo_dir / "customers.csv", keep_default_na=False).replace({"gender": {"": None}})
    tx = pd.read_csv(demo_dir / "transactions.csv")
    shares = tx.pivot_table(index="customer_id", columns="category", values="amount", aggfunc="sum").fillna(0)
    shares = shares.div(shares.sum(axis=1), axis=0)
    frame = customers.set_index("customer_id")[["gender", "age"]].join(shares).reset_index()
    feature_cols = [c for c in frame.columns if c not in ("customer_id", "gender")]
    filled, imputed, info = impute_attribute(frame, "gender", feature_cols, seed=0)
    assert info.n_imputed == customers["gender"].isna().sum() and filled.notna().all()
    assert info.f1 >= 0.7
    truth = pd.read_csv(demo_dir / "truth_customers.csv")["gender"].to_numpy()
    assert (filled[imputed].to_numpy() == truth[imputed.to_numpy()]).mean() >= 0.7


@pytest.mark.skipif(not (DATASETS / "one_click").is_dir(), reason="shared/datasets/one_click not present")
def test_one_click_model(tmp_path):
    from campaign_report.pipeline.report import run_report

    outcome = run_report(ROOT / "examples" / "one_click" / "config.toml", tmp_path / "out")
    p = outcome.results.propensity
    assert p.n_total == 1300 and 0.85 <= p.holdout.roc_auc < 0.995
    assert not p.leak_features
    merged = [i for q in outcome.results.data_quality for i in q.issues if i.kind == "near_duplicate_value"]
    assert any(i.detail == "стандартт → стандарт" and i.action == "merged" for i in merged)
    assert p.action_segment is not None and p.action_segment.size > 0
    # The revenue outlier (106,862 against a median near 5,000) and the three zero-revenue months are flagged.
    model_quality = next(q for q in outcome.results.data_quality if q.name == "model")
    found = {(i.kind, i.column): i.count for i in model_quality.issues}
    assert found == {("outlier", "выручка_текущий_месяц"): 1, ("zero_activity", "выручка_препредыдущий_месяц"): 3,
                     ("zero_activity", "выручка_предыдущий_месяц"): 3}
    tl = p.target_list
    assert tl.cutoff_kind == "precision" and tl.above_threshold == outcome.results.target_list["within_cutoff"].sum()


def test_derived_target_uses_only_the_past(small_demo, tmp_path):
    """Without a label column: "no purchase in the next 90 days", features cut at the horizon."""
    from campaign_report.pipeline.report import run_report
    from tests.conftest import demo_config, write_config

    text = demo_config(small_demo, tmp_path / "out").replace('label = "activity"\n', "").replace(
        'positive = "Снизилась"\n', "").replace('positive_is = "bad"', "").replace(
        "threshold = 0.8", "threshold = 0.8\nhorizon_days = 90")
    p = run_report(write_config(tmp_path, text)).results.propensity
    assert p.target_source == "derived" and p.target == "no_purchase_90d"
    # Recency at the cut-off predicts the next 90 days well; a leak (features after the cut) would push ~1.0.
    assert 0.7 < p.holdout.roc_auc < 0.995 and not p.warnings


def test_outcome_stratified_sample_keeps_the_positive_rate():
    from campaign_report.analysis.model.propensity import outcome_stratified_sample

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"id": np.arange(50_000).astype(str), "x": rng.random(50_000)})
    y = rng.random(50_000) < 0.07
    sample, y_sample = outcome_stratified_sample(frame, y, 5000, seed=1)
    assert len(sample) == len(y_sample) == 5000 and sample["id"].is_unique
    assert abs(y_sample.mean() - y.mean()) < 0.001
    assert (frame.set_index("id").loc[sample["id"], "x"].to_numpy() == sample["x"].to_numpy()).all()
    same, _ = outcome_stratified_sample(frame.head(100), y[:100], 5000, seed=1)
    assert len(same) == 100


def _leak_frame(n=3000, seed=0):
    """Five honest features of a logistic target (a model reaches AUC ≈ 0.8) and the target itself."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])
    logit = 1.1 * x["f0"] - 0.8 * x["f1"] + 0.6 * x["f2"] + 0.3 * x["f3"]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y.astype(int), rng


def _noisy_copy(y, share, rng):
    flip = rng.random(len(y)) < share
    return np.where(flip, 1 - y, y).astype(float)


@pytest.mark.parametrize("together", [False, True])
def test_leakage_guard_names_noisy_copies_of_the_target(together):
    """Copies of the target with 2 %, 5 % and 10 % of values flipped alone score 0.98 / 0.95 / 0.90: each is
    named (before, only ≥ 0.98 was, so 2 % slipped through at 0.979 and 5-10 % were never seen)."""
    from campaign_report.analysis.model.leakage import leak_suspects
    from campaign_report.analysis.model.search import preprocessor

    found = {}
    x, y, rng = _leak_frame()
    for share in (0.02, 0.05, 0.10):
        frame = x if together else x.copy()
        frame[f"copy_{share}"] = _noisy_copy(y, share, rng)
        if not together:
            leaks, rest = leak_suspects(frame, y, list(frame.columns), [], preprocessor, seed=0)
            found.update(dict(leaks))
            assert rest is not None and 0.7 < rest < 0.9
    if together:
        leaks, rest = leak_suspects(x, y, list(x.columns), [], preprocessor, seed=0)
        found = dict(leaks)
    assert set(found) == {"copy_0.02", "copy_0.05", "copy_0.1"}
    for share in (0.02, 0.05, 0.10):
        assert found[f"copy_{share}"] == pytest.approx(1 - share, abs=0.015)


def test_leakage_guard_is_quiet_on_honest_features():
    from campaign_report.analysis.model.leakage import leak_suspects
    from campaign_report.analysis.model.search import preprocessor

    x, y, rng = _leak_frame(seed=1)
    x["strong"] = x["f0"] * 3 + rng.normal(0, 0.3, len(x))  # the strongest honest driver, AUC ≈ 0.8
    assert leak_suspects(x, y, list(x.columns), [], preprocessor, seed=0) == ((), None)


def test_demo_model_has_no_leak_warning(small_run):
    p = small_run.results.propensity
    assert p.leak_features == () and "single_feature_leak" not in p.warnings


def test_cutoff_quality_and_calibration_error_on_known_values():
    from campaign_report.analysis.model.calibration import calibration_bins as _calibration
    from campaign_report.analysis.model.calibration import calibration_error as _calibration_error
    from campaign_report.analysis.model.calibration import cutoff_quality as _cutoff_quality

    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 1, 0])
    p = np.array([0.95, 0.9, 0.85, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    q = _cutoff_quality(y, p, 0.8)
    assert q == {"cutoff": 0.8, "cutoff_share": 0.3, "cutoff_precision": pytest.approx(2 / 3),
                 "cutoff_recall": 0.5}
    rng = np.random.default_rng(0)
    scores = rng.random(20_000)
    honest = (rng.random(20_000) < scores).astype(int)
    assert _calibration_error(_calibration(honest, scores)) < 0.01  # calibrated by construction
    shy = np.clip(0.5 + (scores - 0.5) * 0.5, 0, 1)  # under-confident: pulled toward 0.5
    assert _calibration_error(_calibration(honest, shy)) == pytest.approx(0.125, abs=0.01)


def test_the_documents_state_precision_and_recall_at_the_list_cutoff(small_run):
    h = small_run.results.propensity.holdout
    assert h.cutoff == small_run.results.propensity.target_list.threshold
    assert 0 <= h.cutoff_share <= 1 and 0 <= h.cutoff_recall <= 1 and 0 <= h.calibration_error < 0.2


def _planted_scores(n=4000, seed=5):
    """Scores with a known ranking quality: the outcome is drawn with the score as its probability."""
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    return (rng.random(n) < score).astype(int), score


@pytest.mark.parametrize("rule", ["top 500", "top 20%", "precision 0.8", "probability 0.7"])
def test_cutoff_precision_and_recall_agree_with_sklearn(rule):
    from sklearn.metrics import precision_score, recall_score

    from campaign_report.analysis.model.calibration import cutoff_quality
    from campaign_report.analysis.model.cutoff import inside_cutoff, parse_cutoff, precision_threshold

    y, score = _planted_scores()
    cutoff = parse_cutoff(rule)
    target_threshold, reached = precision_threshold(y, score, cutoff.value) if cutoff.kind == "precision" \
        else (None, True)
    inside, probability_cut = inside_cutoff(score, cutoff, target_threshold)
    expected_size = {"top 500": 500, "top 20%": 800}.get(rule)
    if expected_size:
        assert inside.sum() == expected_size and score[inside].min() >= score[~inside].max()
    q = cutoff_quality(y, score, probability_cut)
    assert q["cutoff_precision"] == pytest.approx(precision_score(y, inside))
    assert q["cutoff_recall"] == pytest.approx(recall_score(y, inside))
    assert q["cutoff_share"] == pytest.approx(inside.mean())
    if cutoff.kind == "precision":
        # The longest list that keeps precision 0.8: reached, and one more customer would break it.
        assert reached and precision_score(y, inside) >= 0.8
        order = np.argsort(-score)
        longer = np.zeros(len(y), dtype=bool)
        longer[order[:inside.sum() + 1]] = True
        assert precision_score(y, longer) < 0.8 or np.flatnonzero(~inside).size == 0


def test_a_precision_target_out_of_reach_is_said():
    from campaign_report.analysis.model.cutoff import precision_threshold

    rng = np.random.default_rng(8)
    score = rng.random(4000)
    y = (rng.random(4000) < 0.6 * score).astype(int)  # no list of 1 % or more is 90 % positive
    threshold, reached = precision_threshold(y, score, 0.9)
    assert not reached and 0 < threshold < 1
    listed = score >= threshold
    assert listed.sum() >= 40 and y[listed].mean() < 0.9


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("top 500", "top_n", 500), ("Top 20%", "top_share", 0.2), ("precision 0.9", "precision", 0.9),
    ("precision 90 %", "precision", 0.9), ("probability 0,8", "probability", 0.8)])
def test_cutoff_rules_parse(text, kind, value):
    from campaign_report.analysis.model.cutoff import parse_cutoff

    cutoff = parse_cutoff(text)
    assert (cutoff.kind, cutoff.value) == (kind, pytest.approx(value))


@pytest.mark.parametrize(("extra", "words"), [
    ('cutoff = "top 0"', "whole number"), ('cutoff = "top 2.5"', "whole number"),
    ('cutoff = "precision 1.2"', "at most 100"), ('cutoff = "precision 100%"', "below 100"),
    ('cutoff = "best ones"', "not understood"), ('cutoff = "top 10%"\nthreshold = 0.8', "either cutoff or threshold")])
def test_bad_cutoff_is_a_one_line_config_error(extra, words, tmp_path):
    from campaign_report.analysis.config import load_config
    from campaign_report.analysis.errors import ConfigError
    from tests.conftest import write_config

    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace("threshold = 0.8", extra)
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    message = str(err.value)
    assert words in message and "[propensity]" in message and "\n" not in message


def test_screening_flags_a_revenue_outlier_and_zero_months():
    from campaign_report.analysis.model.screening import screen_model_rows

    rng = np.random.default_rng(2)
    revenue = rng.lognormal(np.log(5000), 0.12, 1300)
    revenue[17] = 106_862  # one_click's outlier
    previous = rng.lognormal(np.log(5000), 0.12, 1300)
    previous[[3, 4, 5]] = 0  # three customers with a zero-revenue month
    frame = pd.DataFrame({"revenue": revenue, "previous": previous, "promo_share": rng.beta(1, 4, 1300),
                          "visits": rng.poisson(4, 1300).astype(float)})
    flagged, quality = screen_model_rows(frame, list(frame.columns), drop=False)
    found = {(i.kind, i.column): i.count for i in quality.issues}
    assert found == {("outlier", "revenue"): 1, ("zero_activity", "previous"): 3}
    assert sorted(np.flatnonzero(flagged)) == [3, 4, 5, 17]
    assert quality.rows_out == 1300 and {i.action for i in quality.issues} == {"kept"}
    _, dropped = screen_model_rows(frame, list(frame.columns), drop=True)
    assert dropped.rows_out == 1296 and {i.action for i in dropped.issues} == {"dropped_from_model"}


def test_drop_outliers_leaves_flagged_customers_out_of_the_fit(small_demo, tmp_path):
    from campaign_report.pipeline.report import run_report
    from tests.conftest import demo_config, write_config

    text = demo_config(small_demo, tmp_path / "out").replace("threshold = 0.8",
                                                              'cutoff = "top 10%"\ndrop_outliers = true')
    results = run_report(write_config(tmp_path, text)).results
    model_quality = next(q for q in results.data_quality if q.name == "model")
    p = results.propensity
    # The customers the model could learn from, less the flagged ones.
    assert model_quality.rows_out == p.n_population
    assert all(i.action == "dropped_from_model" for i in model_quality.issues)
    full_list = results.target_list
    assert full_list["within_cutoff"].sum() == p.target_list.above_threshold == int(np.ceil(0.1 * len(full_list)))
    assert full_list.loc[full_list["within_cutoff"], "probability"].min() >= \
        full_list.loc[~full_list["within_cutoff"], "probability"].max()
    assert p.holdout.cutoff_rule == p.target_list.cutoff_rule == "top 10%"


def test_the_list_is_counted_against_the_outcomes_the_data_record(small_run, small_demo):
    """The demo's label is recorded for its customers: the list's summary says how many listed customers have the
    outcome and how many with it were left off, counted here again from customers.csv and target_list.csv."""
    known = small_run.results.propensity.target_list.known
    assert known is not None
    listing = pd.read_csv(small_run.output_dir / "target_list.csv", encoding="utf-8-sig", dtype={"customer_id": str})
    customers = pd.read_csv(small_demo / "customers.csv", dtype={"customer_id": str})
    joined = listing.merge(customers[["customer_id", "activity"]], on="customer_id", how="left")
    on_list, declined = joined["within_cutoff"].astype(bool), joined["activity"] == "Снизилась"
    assert known.on_list == int((on_list & joined["activity"].notna()).sum())
    assert known.positive_on_list == int((on_list & declined).sum())
    assert known.positive_off_list == int((~on_list & declined).sum())
    assert "Исход уже записан в данных" in (small_run.output_dir / "report.html").read_text(encoding="utf-8")


def test_a_driver_direction_is_the_models_conditional_effect_not_the_raw_correlation():
    """The demo's promo share raises the decline's odds (+2.5 per unit, planted), but promo buyers also buy more
    often, and rare buyers decline: the raw correlation says the opposite. The direction said is the model's."""
    from scipy.stats import spearmanr
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from campaign_report.analysis.model.importance import conditional_directions

    rng = np.random.default_rng(3)
    n = 20_000
    promo = rng.uniform(0, 1, n)
    orders = rng.poisson(1 + 8 * promo)
    logit = -3.0 * np.log1p(orders) + 2.5 * promo + 3.0
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    x = pd.DataFrame({"promo_share": promo, "orders": orders.astype(float)})
    assert spearmanr(promo, y)[0] < -0.1  # the planted confounding is real: raw, promo goes with staying
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    assert conditional_directions(model, x, ["promo_share", "orders"]) == {"promo_share": 1, "orders": -1}
