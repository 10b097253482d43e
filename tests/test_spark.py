"""The same data through DuckDB and through Spark (local[2]) give the same report numbers.

One Spark session serves every test here (starting one takes ~15 s); the module is skipped with a
message where PySpark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from campaign_report.analysis.analyze import analyze
from campaign_report.analysis.config import load_config
from campaign_report.analysis.data.clean import clean_customers, clean_transactions
from campaign_report.analysis.data.load import load_raw
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.analysis.engines.spark_engine import java_date_format
from campaign_report.analysis.errors import InputError
from tests.conftest import demo_config, write_config
from tests.equivalence import assert_same_report

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
    from campaign_report.analysis.engines.spark_engine import SparkEngine

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


def test_same_report_numbers_as_duckdb(both_runs):
    duck, spark = both_runs
    assert_same_report(duck, spark)
    assert duck.meta.engine.startswith("DuckDB") and spark.meta.engine.startswith("Spark")


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
