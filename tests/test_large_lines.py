"""An order line too large to tell from an entry error is flagged and kept, never deleted, and a segment's
weight is not claimed on it: planted logs (one huge line, a large basket in a small log, none) and the demo
with one line of 400 units written into it."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from campaign_report.analysis.data.large_lines import find_large_lines
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from tests.conftest import demo_config
from tests.test_wording import pdf_pages


def _found(amounts: list[float], quantities: list[float] | None = None):
    engine = DuckDBEngine()
    n = len(amounts)
    engine.register("_lines", pd.DataFrame({
        "customer_id": [f"c{i % 500}" for i in range(n)], "date": pd.Timestamp("2025-03-01").date(),
        "amount": amounts, "quantity": quantities if quantities is not None else [1.0] * n,
        "product": [f"p{i}" for i in range(n)]}))
    engine.table("tx", "SELECT customer_id, CAST(date AS DATE) AS date, amount, quantity, product FROM _lines")
    try:
        return find_large_lines(engine)
    finally:
        engine.close()


def test_one_line_of_four_hundred_units_is_found_with_its_weight():
    amounts = list(np.random.default_rng(1).lognormal(np.log(200), 0.5, 3000))
    quantities = [1.0] * 3000
    amounts[17], quantities[17] = 400 * 200.0, 400.0
    found = _found(amounts, quantities)
    assert found is not None and found.count == 1
    line = found.lines[0]
    assert (line.customer_id, line.amount, line.quantity, line.unit_price) == ("c17", 80_000.0, 400.0, 200.0)
    assert line.revenue_share == pytest.approx(80_000.0 / sum(amounts), rel=1e-12)
    assert found.by_customer() == {"c17": 80_000.0}
    assert found.times_median == pytest.approx(80_000.0 / float(np.median(amounts)), rel=1e-9)


def test_a_large_basket_in_a_small_log_and_an_ordinary_log_are_not_flagged():
    # 37 % of a small log's revenue, but 30 times a usual line: a good customer, not an anomaly.
    assert _found([100.0] * 50 + [3000.0]) is None
    # 200 times the median, yet 0.7 % of the revenue: it moves no share.
    assert _found([100.0] * 30_000 + [20_000.0]) is None
    assert _found(list(np.random.default_rng(2).lognormal(5, 1, 5000))) is None


def test_the_demo_with_one_huge_line_keeps_it_and_says_so(small_demo, tmp_path):
    from campaign_report.pipeline.report import run_report

    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    tx = pd.read_csv(data / "transactions.csv", dtype=str)
    huge = tx.iloc[[0]].copy()
    huge["order_id"], huge["amount"] = "9999999", str(float(pd.to_numeric(tx["amount"]).sum()) * 0.2)
    pd.concat([tx, huge]).to_csv(data / "transactions.csv", index=False)
    config = tmp_path / "config.toml"
    config.write_text(demo_config(data, tmp_path / "output"), encoding="utf-8")
    outcome = run_report(config)
    results = outcome.results
    tx_quality = next(q for q in results.data_quality if q.name == "transactions")
    issue = next(i for i in tx_quality.issues if i.kind == "large_line")
    assert (issue.count, issue.action) == (1, "flagged")
    dropped = sum(i.count for i in tx_quality.issues if i.action == "dropped")
    assert tx_quality.rows_out == tx_quality.rows_in - dropped  # the flagged line is kept
    assert results.meaning.large_lines is not None
    assert results.meaning.large_lines.revenue_share == pytest.approx(0.2 / 1.2, abs=0.01)  # raw sum had bad rows
    # The huge line's segment carries it; without it, the shares are the plain ones and sum to one.
    unflagged = [c.revenue_share_unflagged for c in results.segments.clusters]
    assert all(u is not None for u in unflagged) and sum(unflagged) == pytest.approx(1.0, abs=1e-9)
    page1 = pdf_pages(outcome.output_dir / "brief.pdf")[0]
    assert "Одна строка заказа" in page1 and "% всей выручки" in page1
