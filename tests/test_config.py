"""config.toml is validated at the boundary: every problem names the key."""

from __future__ import annotations

import pytest

from campaign_report.analysis.config import load_config
from campaign_report.analysis.errors import ConfigError
from tests.conftest import ROOT, write_config

BASE = '[report]\ntitle = "t"\n'


@pytest.mark.parametrize("text, words", [
    ("", "missing section [report]"),
    ('[report]\nlanguage = "ru"\n', "missing key 'title' in [report]"),
    (BASE + '[reprot]\n', "unknown section [reprot]"),
    ('[report]\ntitle = "t"\nlanguage = "de"\n', "[report] language must be one of ru, en"),
    (BASE + '[data.sales]\npath = "a.csv"\n', "unknown table [data.sales]"),
    (BASE + '[data.transactions]\npath = "a.csv"\ncustomer_id = "c"\n', "missing key 'date' in [data.transactions]"),
    (BASE + '[data.transactions]\npath = "a.csv"\ncustomer_id = "c"\ndate = "d"\n', "needs 'amount' or both"),
    (BASE + '[data.customers]\nid = "id"\n', "needs exactly one of 'path' or 'sql'"),
    (BASE + '[data.customers]\npath = "a.csv"\nid = "id"\ncolour = "x"\n', "unknown key 'colour' in [data.customers]"),
    (BASE + '[experiment]\nconfidence = 0.95\n', "[experiment] needs a [data.experiment] table"),
    (BASE + '[segments]\nk = 1\n', "k must be \"auto\" or an integer >= 2"),
    (BASE + '[segments]\nrfm = "yes"\n', "rfm must be true or false"),
    (BASE + '[propensity]\nthreshold = "high"\n', "threshold must be a number"),
    (BASE + '[engine]\nkind = "bigquery"\n', "[engine] kind must be one of duckdb, spark, postgres"),
    (BASE + '[engine]\nkind = "postgres"\n', "url is needed"),
    (BASE + '[engine]\nkind = "postgres"\nurl = "postgresql://u:pw@h/db"\n', "must not hold a password"),
    (BASE + '[engine]\nmaster = "local[2]"\n', "master is a Spark setting"),
    (BASE + '[engine]\nkind = "spark"\nconf = 3\n', "[engine.conf] must be a table"),
    (BASE + '[engine]\nsample_size = 10\n', "sample_size must be at least 1000"),
    (BASE + '[engine]\nkind = "spark"\nmemory_limit = "4GB"\n', "memory_limit is a DuckDB setting"),
    (BASE + '[email]\nto = ["a@b.c"]\npassword = "x"\n', "SMTP_PASSWORD"),
    (BASE + '[data.customers]\nurl = "postgresql://u:secret@h/db"\nsql = "SELECT 1"\nid = "id"\n',
     "must not hold a password"),
    ("[report\n", "not valid TOML"),
])
def test_config_errors_name_the_key(text, words, tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_demo_config_and_examples_load():
    for path in [ROOT / "config.toml", *sorted((ROOT / "examples").glob("*/config.toml"))]:
        config = load_config(path)
        assert config.report.title and config.tables
    demo = load_config(ROOT / "config.toml")
    assert demo.tables["transactions"].path == (ROOT / "demo_data" / "transactions.csv").resolve()
    assert demo.experiment is not None and demo.experiment.observational is not None


def test_experiment_without_segments_has_no_default_segment_cuts(tmp_path):
    """The default cuts are by cluster and RFM; without [segments] a run used to warn about cuts nobody asked for."""
    from campaign_report.analysis.config import config_from_dict

    data = {"experiment": {"path": "a.csv", "customer_id": "id", "group": "g", "control": "c"}}
    plain = config_from_dict({"report": {"title": "t"}, "data": data, "experiment": {}}, folder=tmp_path)
    assert plain.experiment.segment_by == ()
    purchases = {"transactions": {"path": "t.csv", "customer_id": "id", "date": "d", "amount": "a"}}
    with_segments = config_from_dict({"report": {"title": "t"}, "data": {**data, **purchases}, "experiment": {},
                                      "segments": {}}, folder=tmp_path)
    assert with_segments.experiment.segment_by == ("cluster", "rfm")
    asked = config_from_dict({"report": {"title": "t"}, "data": data, "experiment": {"segment_by": ["city"]}},
                             folder=tmp_path)
    assert asked.experiment.segment_by == ("city",)
