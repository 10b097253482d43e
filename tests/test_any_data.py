"""Any data, right words: each item of the "any data" issue on a shop unlike the demo.

A CD shop's purchase log (whitespace-aligned, CRLF, zero-padded ids, YYYYMMDD, no categories, order ids or
profit) read from a plain path; what a label's positive class means, declared, never guessed; checks before
heavy work; RFM relative to the shop's own purchase cycle; offers that follow each segment's evidence; the
segment to act on drawn from the list; nothing dropped without a note; errors naming the config file.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from campaign_report.analysis.config import OffersConfig, load_config
from campaign_report.analysis.customers.rfm import analyze_rfm, cycle_from_gaps
from campaign_report.analysis.errors import ConfigError, InputError
from campaign_report.analysis.offers.recommend import EvidenceContext, recommend, segment_evidence
from tests.conftest import ROOT, demo_config
from tests.purchase_log import simulate_purchases, write_aligned_log
from tests.test_wording import pdf_pages

LOG_CONFIG = """
[report]
title = "CD shop"
language = "en"
currency = "$"
output_dir = "out"

[data.transactions]
path = "log.txt"
customer_id = "customer_id"
date = "date"
amount = "dollar_value"
quantity = "number_of_cds"

[segments]
k = "auto"
"""


@pytest.fixture(scope="module")
def cd_shop(tmp_path_factory):
    """The CD shop's log, a config written from the README alone, and its run."""
    from campaign_report.pipeline.report import run_report

    work = tmp_path_factory.mktemp("cd_shop")
    log = simulate_purchases(1500, seed=3)
    # Real repeat purchases of the same thing on one day: identical lines, which must not be deleted.
    repeats = log.lines.sample(40, random_state=1)
    lines = pd.concat([log.lines, repeats]).sort_values(["customer_id", "day"], kind="stable")
    write_aligned_log(type(log)(lines, log.truth), work / "log.txt")
    (work / "config.toml").write_text(LOG_CONFIG, encoding="utf-8")
    return work, lines, run_report(work / "config.toml")


def test_a_whitespace_aligned_log_reads_from_a_plain_path(cd_shop):
    work, lines, outcome = cd_shop
    features = outcome.results.rfm
    assert sum(s.size for s in features.segments) == lines["customer_id"].nunique()
    quality = {i.kind: i for q in outcome.results.data_quality for i in q.issues}
    # Identical lines without order ids are kept (and counted), not deleted as duplicates.
    assert quality["identical_lines"].count == 40 and quality["identical_lines"].action == "kept_no_order_id"
    tx = next(q for q in outcome.results.data_quality if q.name == "transactions")
    assert tx.rows_in == tx.rows_out == len(lines)
    assert outcome.results.meta.n_customers == lines["customer_id"].nunique()  # "00001" stays one customer
    meaning = outcome.results.meaning
    assert not meaning.categories and not meaning.order_ids and meaning.money.value_basis == "revenue"


def test_cluster_names_come_from_behaviour_without_categories(cd_shop):
    _, _, outcome = cd_shop
    names = [c.name_en for c in outcome.results.segments.clusters]
    assert all(name and "—" not in name and "“" not in name for name in names), names
    assert len(set(names)) == len(names)
    text = "\n".join(pdf_pages(outcome.output_dir / "brief.pdf"))
    assert "Categories:" not in text and "profit" not in text.lower().split("appendix: methods")[0]


def test_delimiter_key_and_whitespace(tmp_path):
    (tmp_path / "a.csv").write_text("id;x\n1;2\n", encoding="utf-8")
    text = '[report]\ntitle = "t"\n[data.customers]\npath = "a.csv"\nid = "id"\n'
    path = tmp_path / "c.toml"
    for given, read in (('";"', ";"), ('"whitespace"', "whitespace"), ('" "', "whitespace"), ('"\\\\t"', "\t")):
        path.write_text(text + f"delimiter = {given}\n", encoding="utf-8")
        assert load_config(path).tables["customers"].sep == read
    path.write_text(text + 'delimiter = ";;"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="delimiter must be one character"):
        load_config(path)


def test_an_engine_read_error_is_shown_whole_with_the_key_that_fixes_it(cd_shop, tmp_path):
    from campaign_report.pipeline.report import run_report

    work, _, _ = cd_shop
    config = LOG_CONFIG.replace('path = "log.txt"', f"sql = \"SELECT * FROM read_csv('{work / 'log.txt'}', "
                                                    "delim = ' ')\"").replace('"out"', f'"{tmp_path / "out"}"')
    config += f'\n[engine]\nread_folders = ["{work}"]\n'  # the log is outside the config's folder
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    with pytest.raises(InputError) as err:
        run_report(tmp_path / "c.toml")
    message = str(err.value)
    assert "\n" not in message and "sniffing" in message and "dialect" in message  # DuckDB's detail kept
    assert "path = " in message and "delimiter" in message  # ... and the way out
    assert "00001" not in message  # a line of the file is not printed


def test_errors_name_the_config_file_the_user_ran(tmp_path, small_demo):
    from campaign_report.pipeline.report import run_report

    path = tmp_path / "october.toml"
    path.write_text('[report]\ntitle = "t"\ncolour = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^.*october\.toml: unknown key 'colour'"):
        load_config(path)
    # A problem found while running (a score filter the engine rejects) names it too.
    path.write_text(demo_config(small_demo, tmp_path / "out").replace(
        "score_filter = \"city = 'Новосибирск'\"", 'score_filter = "no_such_column = 1"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"october\.toml: \[propensity\] score_filter failed"):
        run_report(path)


def test_a_wrong_positive_value_is_reported_before_any_heavy_work(tmp_path, small_demo):
    from campaign_report.analysis.analyze import analyze

    path = tmp_path / "config.toml"
    path.write_text(demo_config(small_demo, tmp_path / "out").replace('positive = "Снизилась"', 'positive = "yes"'),
                    encoding="utf-8")
    stages: list[str] = []
    with pytest.raises(InputError) as err:
        analyze(load_config(path), progress=lambda stage, seconds: stages.append(stage))
    assert "positive = 'yes' is not a value of the label" in str(err.value) and "Снизилась" in str(err.value)
    assert "customers.csv" in str(err.value) and "column 'activity'" in str(err.value)
    assert set(stages) <= {"load", "validate"}


def test_label_keys_are_checked_at_load(tmp_path):
    base = '[report]\ntitle = "t"\n[data.customers]\npath = "a.csv"\nid = "id"\n'
    path = tmp_path / "c.toml"
    for extra, words in (('label = "y"\n', "needs positive"), ('label = "y"\npositive = "1"\npositive_is = "ok"\n',
                                                              "positive_is must be one of bad, good"),
                         ('positive = "1"\n', "set label")):
        path.write_text(base + extra, encoding="utf-8")
        with pytest.raises(ConfigError, match=words):
            load_config(path)
    path.write_text(base + 'label = "y"\npositive = 1\n', encoding="utf-8")
    assert load_config(path).tables["customers"].option("positive") == "1"


def test_rfm_recency_is_measured_against_the_shops_own_cycle():
    """Two shops, the same silence of 60 days: lapsed where customers come back weekly, fresh where yearly."""
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "recency_days": [3.0, 20.0, 60.0, 400.0],
                          "orders": [6.0, 3.0, 2.0, 1.0], "monetary": [600.0, 300.0, 200.0, 100.0]})
    weekly = cycle_from_gaps({5: 40, 7: 50, 9: 10}, 30)
    yearly = cycle_from_gaps({200: 30, 365: 60, 420: 10}, 30)
    _, weekly_labels = analyze_rfm(frame, cycle=weekly)
    _, yearly_labels = analyze_rfm(frame, cycle=yearly)
    assert weekly.recency_score(frame["recency_days"]).tolist() == [5, 1, 1, 1]
    assert yearly.recency_score(frame["recency_days"]).tolist() == [5, 5, 5, 2]  # 400 > 365, the 90th percentile
    assert weekly_labels["c"] in ("at_risk", "lost", "cant_lose") and yearly_labels["c"] not in ("at_risk", "lost")
    assert cycle_from_gaps({}, 0) is None


def _base(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": [str(i) for i in range(n)], "orders": rng.integers(1, 6, n).astype(float),
                         "monetary": rng.gamma(2, 500, n), "average_check": 500.0,
                         "recency_days": rng.integers(1, 100, n).astype(float),
                         "cat_share::Прочее": 0.1, "cat_share::Сад": 0.9})


def test_a_catch_all_category_is_never_the_focus_of_an_offer():
    base = _base()
    base.loc[:199, ["cat_share::Прочее", "cat_share::Сад"]] = [0.95, 0.05]
    ev = segment_evidence("cluster", "0", base.head(200), base, (), None,
                          EvidenceContext(catch_all=OffersConfig.catch_all_categories))
    assert ev.top_category == "Сад"  # the catch-all is skipped, and the real category is not its focus either
    offers = recommend(ev, OffersConfig(), "discount").offers
    assert all("Прочее" not in o.text_ru and o.offer_id != "category_focus" for o in offers), offers


def test_a_small_segment_of_high_value_still_gets_an_offer():
    base = _base()
    base.loc[:39, ["monetary", "orders"]] = [50_000.0, 9.0]  # 40 loyal customers with half of the value
    base["value"] = base["monetary"]
    ev = segment_evidence("rfm", "cant_lose", base.head(40), base, (), None)
    assert ev.values["value_share"] > 0.05
    assert recommend(ev, OffersConfig(min_customers=50), "discount").offers
    small = segment_evidence("rfm", "x", base.iloc[500:540], base, (), None)
    assert recommend(small, OffersConfig(min_customers=50), "discount").blocked == (("*", "too_few_customers"),)


def test_lapsed_customers_get_win_back_first():
    base = _base().assign(average_check=[3000.0] * 200 + [500.0] * 800, promo_share=0.0)
    base.loc[:199, "recency_days"] = 300.0
    ev = segment_evidence("rfm", "lost", base.head(200), base, (), None, EvidenceContext(lapse_days=120))
    assert ev.values["lapsed_share"] == 1.0
    offers = recommend(ev, OffersConfig(), "discount").offers
    assert offers[0].offer_type == "reminder", [o.offer_id for o in offers]
    assert "service_privilege" not in {o.offer_id for o in offers}


def test_an_offer_naming_what_the_data_lack_is_not_made():
    base = _base().drop(columns=["cat_share::Прочее", "cat_share::Сад"]).assign(orders=1.0)
    base.loc[:199, "orders"] = 5.0
    ev = segment_evidence("cluster", "0", base.head(200), base, (), None)
    assert ev.top_category is None
    offers = recommend(ev, OffersConfig(), "discount").offers
    assert offers and all("{" not in o.text_en and "“" not in o.text_en for o in offers)
    assert "cashback_plain" in {o.offer_id for o in offers}


def test_decline_words_need_a_label_that_means_decline():
    base = _base().assign(probability=0.8)
    neutral = segment_evidence("action", "x", base.head(300), base, (), None)
    assert "decline_probability" not in neutral.values and neutral.values["outcome_probability"] == pytest.approx(0.8)
    bad = segment_evidence("action", "x", base.head(300), base, (), None, EvidenceContext(probability_is="bad"))
    assert bad.values["decline_probability"] == pytest.approx(0.8)
    assert "winback_reminder" not in {o.offer_id for o in recommend(neutral, OffersConfig(), "discount").offers}


def test_the_list_and_the_segment_to_act_on_are_one_set(small_run):
    results = small_run.results
    frame = results.target_list
    a, tl = results.propensity.action_segment, results.propensity.target_list
    assert a.size <= tl.above_threshold == int(frame["within_cutoff"].sum()) == a.list_size
    listed = frame[frame["within_cutoff"]]
    base = listed["reason_code"].str.startswith("none:")
    # A customer on the list never gets the base communication without a reason saying why.
    assert (listed.loc[base, "reason_code"] == "none:no_offer_matches_the_list").all()
    assert frame.loc[frame["probability"].idxmax(), "reason_code"].split(":")[0] in ("action", "cluster", "list")
    email = json.loads((small_run.output_dir / "email.json").read_text(encoding="utf-8"))
    assert str(a.size) in email["text"].replace("\u00a0", "")


def test_every_segment_row_is_in_the_brief(tmp_path, small_demo):
    """More segment rows than fit: the readout shows the most important and the appendix all of them."""
    from campaign_report.pipeline.report import run_report

    path = tmp_path / "config.toml"
    path.write_text(demo_config(small_demo, tmp_path / "out", language="en").replace(
        'segment_by = ["cluster", "rfm", "city"]', 'segment_by = ["cluster", "rfm", "city", "gender"]'),
        encoding="utf-8")
    outcome = run_report(path)
    exp = outcome.results.experiment
    rows = [e for e in exp.by_segment if e.metric == exp.primary]
    assert len(rows) > 10
    text = "\n".join(pdf_pages(outcome.output_dir / "brief.pdf"))
    appendix = text[text.index("Appendix: effect by every cut"):]
    for e in rows:
        assert e.segment in appendix or e.dimension == "rfm", e.segment
    assert f"Showing 10 of {len(rows)} rows" in text


def test_page_one_says_when_the_model_leaked(tmp_path):
    """A label built from the same log's future, learned from features that include that future: flagged on
    page 1; with features_before the model sees only the past and the flag goes."""
    from campaign_report.pipeline.report import run_report

    log = simulate_purchases(2000, seed=5)
    write_aligned_log(log, tmp_path / "log.txt")
    cut = 365
    later = set(log.lines.loc[log.lines["day"] >= cut, "customer_id"])
    earlier = sorted(set(log.lines.loc[log.lines["day"] < cut, "customer_id"]))
    pd.DataFrame({"customer_id": [f"{c:05d}" for c in earlier],
                  "bought_again": ["yes" if c in later else "no" for c in earlier]}).to_csv(
        tmp_path / "labels.csv", index=False)
    config = LOG_CONFIG + ('\n[data.customers]\npath = "labels.csv"\nid = "customer_id"\nlabel = "bought_again"\n'
                           'positive = "yes"\npositive_is = "good"\n\n[propensity]\nn_iter = 2\ncv_folds = 3\n'
                           'models = ["logreg", "tree"]\n')
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    leaked = run_report(tmp_path / "c.toml")
    assert leaked.results.propensity.warnings
    page1 = pdf_pages(leaked.output_dir / "brief.pdf")[0]
    assert "leaked" in page1 and "Do not trust" in page1
    (tmp_path / "c.toml").write_text(config.replace('models = ["logreg", "tree"]', 'models = ["logreg", "tree"]\n'
                                                    'features_before = "1998-01-01"'), encoding="utf-8")
    honest = run_report(tmp_path / "c.toml", tmp_path / "honest")
    assert honest.results.propensity.holdout.roc_auc < 0.95 and "holdout_auc_too_high" not in \
        honest.results.propensity.warnings
    assert "leaked" not in pdf_pages(honest.output_dir / "brief.pdf")[0]
    # A good outcome: the list is whom to contact, never whom to retain.
    text = " ".join(pdf_pages(honest.output_dir / "brief.pdf")[:2]).lower()
    assert "whom to contact first" in text and "retain" not in text and "decline" not in text
    assert math.isfinite(honest.results.propensity.holdout.roc_auc)


def test_the_config_reference_and_schema_are_generated_from_the_settings():
    import jsonschema
    import tomllib

    from campaign_report.analysis import config_docs

    assert config_docs.REFERENCE_PATH.read_text(encoding="utf-8") == config_docs.reference_markdown(), \
        "docs/config.md is stale: python -m campaign_report.analysis.config_docs"
    assert config_docs.SCHEMA_PATH.read_text(encoding="utf-8") == config_docs.schema_text()
    schema = json.loads(config_docs.SCHEMA_PATH.read_text(encoding="utf-8"))
    for path in [ROOT / "config.toml", *sorted((ROOT / "examples").glob("*/config.toml"))]:
        jsonschema.validate(tomllib.loads(path.read_text(encoding="utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError, match="titel"):
        jsonschema.validate({"report": {"title": "t", "titel": "x"}}, schema)
    reference = config_docs.REFERENCE_PATH.read_text(encoding="utf-8")
    for key in ("`label`", "`positive`", "`positive_is`", "`profit`", "`profit_unit`", "`delimiter`",
                "`drop_duplicate_lines`", "`features_before`", "`margin`"):
        assert key in reference, key
