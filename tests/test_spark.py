"""The same data through DuckDB and through Spark (local[2]) give the same report numbers.

One Spark session serves every test here (starting one takes ~15 s); the module is skipped with a
message where PySpark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.clean import clean_customers, clean_transactions
from analysis.config import load_config
from analysis.engine import DuckDBEngine, java_date_format
from analysis.errors import InputError
from analysis.load import load_raw
from pipeline.run import analyze
from tests.conftest import demo_config, write_config

SPARK_MASTER = "local[2]"


def test_java_date_format():
    assert java_date_format("%d.%m.%Y") == "dd.MM.yyyy"
    assert java_date_format("%Y-%m-%dT%H:%M:%S") == "yyyy-MM-dd'T'HH:mm:ss"
    assert java_date_format("%Y%m%d%H") == "yyyyMMddHH"


@pytest.fixture(scope="module")
def spark_engine():
    pytest.importorskip("pyspark", reason="PySpark is not installed: pip install 'campaign-report[spark]'")
    pytest.importorskip("sqlglot", reason="sqlglot is not installed: pip install 'campaign-report[spark]'")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Spark needs Java (apt-get install default-jre-headless); none found")
    from analysis.engine import SparkEngine

    engine = SparkEngine(SPARK_MASTER)  # later SparkEngine(...) calls in this process reuse its session
    yield engine
    engine.close()


def _spark_config(text: str) -> str:
    return text.replace('kind = "duckdb"', f'kind = "spark"\nmaster = "{SPARK_MASTER}"')


@pytest.fixture(scope="module")
def both_runs(small_demo: Path, tmp_path_factory, spark_engine):
    work = tmp_path_factory.mktemp("engines")
    text = demo_config(small_demo, work / "out")
    runs = []
    for name, config_text in (("duck", text), ("spark", _spark_config(text))):
        (work / name).mkdir()
        runs.append(analyze(load_config(write_config(work / name, config_text))))
    return runs


def test_experiment_numbers_identical(both_runs):
    (duck, _), (spark, _) = both_runs
    a, b = duck.experiment, spark.experiment
    assert [g.n for g in a.groups] == [g.n for g in b.groups]
    assert len(a.metrics) == len(b.metrics) and len(a.by_segment) == len(b.by_segment) > 0
    for m1, m2 in [*zip(a.metrics, b.metrics, strict=True), *zip(a.by_segment, b.by_segment, strict=True)]:
        for field in ("control_value", "treatment_value", "abs_diff", "rel_lift", "ci_low", "ci_high", "p_value",
                      "p_adjusted"):
            x, y = getattr(m1, field), getattr(m2, field)
            assert abs(x - y) <= 1e-9 * max(1.0, abs(x)), (m1.metric, field, x, y)
    assert a.srm.chi2 == pytest.approx(b.srm.chi2, rel=1e-12)
    assert a.decision.verdict == b.decision.verdict
    assert a.observational[0].rel_effect == pytest.approx(b.observational[0].rel_effect, rel=1e-9)


def test_segments_rfm_and_cleaning_identical(both_runs):
    (duck, _), (spark, _) = both_runs
    assert [(s.name, s.size) for s in duck.rfm.segments] == [(s.name, s.size) for s in spark.rfm.segments]
    clusters = [[(c.size, c.name_ru) for c in run.segments.clusters] for run in (duck, spark)]
    assert clusters[0] == clusters[1]
    assert [(q.name, q.rows_in, q.rows_out, q.issues) for q in duck.data_quality] == \
        [(q.name, q.rows_in, q.rows_out, q.issues) for q in spark.data_quality]
    assert duck.offers.pairs == spark.offers.pairs
    assert duck.meta.engine.startswith("DuckDB") and spark.meta.engine.startswith("Spark")


def test_model_and_target_list_within_tolerance(both_runs):
    (duck, duck_list), (spark, spark_list) = both_runs
    # Same features to the last bits, so the same model; the tolerance covers summation order only.
    assert duck.propensity.best == spark.propensity.best
    assert duck.propensity.holdout.roc_auc == pytest.approx(spark.propensity.holdout.roc_auc, abs=1e-6)
    merged = duck_list.merge(spark_list, on="customer_id", suffixes=("_d", "_s"))
    assert len(merged) == len(duck_list) == len(spark_list)
    assert np.abs(merged["probability_d"] - merged["probability_s"]).max() <= 1e-4


def test_spark_error_names_the_file_line(tmp_path, spark_engine):
    lines = ["customer_id;date;amount"] + [f"{i};05.10.2026;{i},5" for i in range(1, 300)]
    lines[157] = "157;05.10.2026;сто"  # file line 158 (header = line 1)
    (tmp_path / "tx.csv").write_text("\n".join(lines) + "\n", encoding="cp1251")
    config = load_config(write_config(tmp_path, '[report]\ntitle = "t"\n[data.transactions]\npath = "tx.csv"\n'
                                                'customer_id = "customer_id"\ndate = "date"\namount = "amount"\n'))
    source = config.tables["transactions"]
    with pytest.raises(InputError) as err:
        clean_transactions(spark_engine, load_raw(spark_engine, source, tmp_path), source, pd.Timestamp("2026-11-22"))
    assert (err.value.row, err.value.column, err.value.value) == (158, "amount", "сто")


def test_1c_export_cleans_identically(tmp_path, spark_engine):
    """cp1251, `;`, decimal commas, dd.mm.yyyy, a typo and a duplicate: the same tx on both engines."""
    tx = "Клиент;Дата;Сумма;Категория\n" + "".join(
        f"{i % 40};{1 + i % 28:02d}.0{1 + i % 9}.2026;{i * 10 + 1},50;{'Обувь' if i % 3 else 'Одежда'}\n"
        for i in range(600)) + "7;08.08.2026;1 234,00;Обувьь\n" + "1;02.02.2026;11,50;Обувь\n"
    (tmp_path / "tx.csv").write_bytes(tx.encode("cp1251"))
    (tmp_path / "customers.csv").write_bytes(("Клиент;Возраст\n" + "".join(f"{i};{20 + i}\n" for i in range(40)))
                                             .encode("cp1251"))
    config = load_config(write_config(tmp_path, '[report]\ntitle = "t"\n[data.customers]\npath = "customers.csv"\n'
                                                'id = "Клиент"\nage = "Возраст"\n[data.transactions]\npath = "tx.csv"\n'
                                                'customer_id = "Клиент"\ndate = "Дата"\namount = "Сумма"\n'
                                                'category = "Категория"\n'))
    frames = []
    for engine in (DuckDBEngine(), spark_engine):
        customers, _ = clean_customers(engine, load_raw(engine, config.tables["customers"], tmp_path),
                                       config.tables["customers"])
        quality = clean_transactions(engine, load_raw(engine, config.tables["transactions"], tmp_path),
                                     config.tables["transactions"], pd.Timestamp("2026-11-22"))
        tx_frame = engine.frame("SELECT customer_id, date, amount, order_id, category FROM tx "
                                "ORDER BY customer_id, date, amount")
        frames.append((customers, quality, tx_frame))
    (c1, q1, t1), (c2, q2, t2) = frames
    pd.testing.assert_frame_equal(c1, c2, check_dtype=False)
    assert q1 == q2 and any(i.kind == "near_duplicate_value" for i in q1.issues)
    t1["date"], t2["date"] = pd.to_datetime(t1["date"]), pd.to_datetime(t2["date"])
    pd.testing.assert_frame_equal(t1, t2, check_dtype=False)
    assert t1["amount"].max() == 5991.5 and "Обувьь" not in set(t1["category"])
