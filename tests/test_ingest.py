"""Ingestion: dialects, cleaning with a record, and one-line errors for bad input (exit 2, no output)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from campaign_report.analysis.config import load_config
from campaign_report.analysis.data.clean import (
    clean_customers,
    clean_transactions,
    find_near_duplicates,
    one_edit_apart,
)
from campaign_report.analysis.data.dialect import detect_dialect
from campaign_report.analysis.data.load import load_raw
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.pipeline.cli import main
from tests.conftest import demo_config, write_config

CONFIG = """
[report]
title = "t"
[data.customers]
path = "customers.csv"
id = "Customer ID"
age = "Age"
city = "City"
[data.transactions]
path = "tx.csv"
customer_id = "Customer ID"
date = "Date"
amount = "Amount"
category = "Category"
"""


def _frames(tmp_path: Path, encoding: str, sep: str, decimal: str, date_fmt: str):
    customers = pd.DataFrame({" Customer ID ": [1, 2, 3], "Age": [30, 41, 25], "City": ["Москва", "Тверь", "Москва"]})
    tx = pd.DataFrame({"Customer ID": [1, 1, 2, 3], "Date": pd.to_datetime(["2026-01-05", "2026-02-10",
                                                                               "2026-03-01", "2026-03-02"]),
                       "Amount": [1234.5, 99.99, 10.0, 2500.25], "Category": ["Обувь", "Одежда", "Обувь", "Мячи"]})
    tx["Date"] = tx["Date"].dt.strftime(date_fmt)
    customers.to_csv(tmp_path / "customers.csv", sep=sep, decimal=decimal, index=False, encoding=encoding)
    tx.to_csv(tmp_path / "tx.csv", sep=sep, decimal=decimal, index=False, encoding=encoding)
    config = load_config(write_config(tmp_path, CONFIG))
    con = DuckDBEngine()
    cust, _ = clean_customers(con, load_raw(con, config.tables["customers"], tmp_path), config.tables["customers"])
    clean_transactions(con, load_raw(con, config.tables["transactions"], tmp_path), config.tables["transactions"],
                       pd.Timestamp("2026-11-22"))
    return cust, con.frame("SELECT * FROM tx ORDER BY customer_id, date")


def test_utf8_comma_and_cp1251_semicolon_load_identically(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cust_a, tx_a = _frames(tmp_path / "a", "utf-8", ",", ".", "%Y-%m-%d")
    cust_b, tx_b = _frames(tmp_path / "b", "cp1251", ";", ",", "%d.%m.%Y")
    pd.testing.assert_frame_equal(cust_a, cust_b)
    pd.testing.assert_frame_equal(tx_a, tx_b)
    assert tx_a["amount"].tolist() == [1234.5, 99.99, 10.0, 2500.25]
    dialect = detect_dialect(tmp_path / "b" / "tx.csv")
    assert (dialect.encoding, dialect.sep, dialect.decimal) == ("cp1251", ";", ",")


def test_thousands_with_spaces_and_bom(tmp_path):
    (tmp_path / "tx.csv").write_text("id;sum\n1;1 234,50\n2;12 000\n", encoding="utf-8-sig")
    d = detect_dialect(tmp_path / "tx.csv")
    assert (d.encoding, d.sep, d.decimal, d.thousands) == ("utf-8-sig", ";", ",", " ")


def test_typos_merged_and_legit_rare_values_kept():
    counts = {"стандарт": 914, "премиум": 376, "стандартт": 10, "Москва": 0}
    assert find_near_duplicates(counts) == {"стандартт": "стандарт"}
    assert find_near_duplicates({"Москва": 500, "Масква": 3, "Тверь": 3, "москва": 2}) == {
        "Масква": "Москва", "москва": "Москва"}
    assert one_edit_apart("предыдцщий_месяц", "предыдущий_месяц")
    assert not one_edit_apart("Тверь", "Москва")


def test_planted_demo_dirt_is_found_and_reported(small_run, small_demo):
    from campaign_report.analysis.demo import load_truth

    truth = load_truth(small_demo)
    issues = {(q.name, i.kind): i for q in small_run.results.data_quality for i in q.issues}
    assert issues[("transactions", "duplicate_rows")].count == truth.duplicated_lines
    assert issues[("transactions", "impossible_value")].count == truth.negative_amount_lines
    assert issues[("transactions", "near_duplicate_value")].count == truth.typo_lines
    assert issues[("experiment", "customer_in_several_groups")].count == truth.customers_in_both_groups


BAD = [
    # (what to break, expected words in the one-line message)
    ("missing_file", ["transactions.csv", "file not found"]),
    ("missing_column", ["transactions.csv", "column 'сумма'", "not found"]),
    ("bad_number", ["transactions.csv", "column 'amount'", "row 5", "'12,3abc'"]),
    ("bad_date", ["transactions.csv", "column 'date'", "row 4", "'31.02.2026'"]),
    ("unknown_key", ["unknown key 'colour'", "[report]"]),
    ("bad_label", ["customers.csv", "is not a value of the label", "'Ушёл'"]),
    ("bad_filter", ["score_filter", "failed"]),
]


@pytest.mark.parametrize("case, words", BAD, ids=[c for c, _ in BAD])
def test_bad_input_one_line_exit_2_nothing_written(case, words, small_demo, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("customers.csv", "transactions.csv", "assignment.csv"):
        (data / name).write_bytes((small_demo / name).read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    (out / "brief.pdf").write_bytes(b"previous good run")
    text = demo_config(data, out)
    if case == "missing_file":
        (data / "transactions.csv").unlink()
    elif case == "missing_column":
        text = text.replace('amount = "amount"', 'amount = "сумма"')
    elif case in ("bad_number", "bad_date"):
        lines = (data / "transactions.csv").read_text(encoding="utf-8").splitlines()
        parts = lines[4 if case == "bad_number" else 3].split(",")
        if case == "bad_number":
            parts[5] = '"12,3abc"'
        else:
            parts[2] = "31.02.2026"
        lines[4 if case == "bad_number" else 3] = ",".join(parts)
        (data / "transactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif case == "unknown_key":
        text = text.replace('currency = "₽"', 'currency = "₽"\ncolour = "blue"')
    elif case == "bad_label":
        text = text.replace('positive = "Снизилась"', 'positive = "Ушёл"')
    elif case == "bad_filter":
        text = text.replace("score_filter = \"city = 'Новосибирск'\"", 'score_filter = "town = 1"')
    code = main(["run", "--config", str(write_config(tmp_path, text))])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir() if p.name != "ledger.sqlite") == ["brief.pdf"]
    assert (out / "brief.pdf").read_bytes() == b"previous good run"


def test_codes_and_short_labels_are_never_merged_as_typos():
    """Numeric city codes one digit apart are different cities (a store's log: 1 516 rows were rewritten,
    1198 -> 1188); "M" / "F" are one edit apart by design."""
    codes = {"1188": 1900, "1198": 60, "59": 2, "9": 900, "1154": 40, "1134": 800}
    assert find_near_duplicates(codes) == {}
    assert find_near_duplicates({"M": 5000, "F": 300}) == {}
    assert find_near_duplicates({"Store A12": 900, "Store A13": 20}) == {}
    assert find_near_duplicates({"Москва": 900, "Масква": 20, "МОСКВА": 5}) == {"Масква": "Москва", "МОСКВА": "Москва"}
    # Group labels are only flagged (kept), so there every near pair is reported.
    assert find_near_duplicates({"v1": 9200, "v2": 300}, words_only=False) == {"v2": "v1"}


def test_free_text_columns_are_not_merged():
    # Thousands of distinct values are names or products, not a category with typos (and the search is quadratic).
    counts = {f"клиент {i}": 1 for i in range(5000)} | {"клиент": 5000}
    assert find_near_duplicates(counts) == {}
