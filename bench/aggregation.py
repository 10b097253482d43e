"""The tool's purchase-line aggregation vs a bare DuckDB query doing the same work on the same file.

"Same work": drop lines without customer/date/amount or with amount <= 0 or a future date, drop exact
duplicates, then per customer recency, orders, spend, average check, tenure, promo share and spend
shares of the top categories and brands. Prints both times and the ratio (target <= 1.3).
Usage: python bench/aggregation.py [--lines 50000000] [--customers 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from campaign_report.analysis.config import TableSource  # noqa: E402
from campaign_report.analysis.data.clean import clean_transactions  # noqa: E402
from campaign_report.analysis.data.features import build_customer_features  # noqa: E402
from campaign_report.analysis.data.load import load_raw  # noqa: E402
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine  # noqa: E402

CATEGORIES = ["Одежда", "Обувь", "Аксессуары", "Велосипеды", "Тренажёры", "Туризм", "Плавание", "Зимний спорт"]
BRANDS = ["Демикс", "Найк", "Адидас", "Торнео", "Нордвей", "Джосс"]


def make_file(path: Path, lines: int, customers: int) -> None:
    cats = "[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    brands = "[" + ",".join(f"'{b}'" for b in BRANDS) + "]"
    duckdb.sql(f"""COPY (
        SELECT (hash(i) % {customers})::BIGINT AS customer_id, (i // 2)::BIGINT AS order_id,
               DATE '2025-11-01' + (hash(i // 2) % 365)::INTEGER AS date,
               round(10 + (hash(i * 7) % 500000) / 100.0, 2) AS amount,
               {cats}[1 + (hash(i * 3) % {len(CATEGORIES)})::INTEGER] AS category,
               {brands}[1 + (hash(i * 5) % {len(BRANDS)})::INTEGER] AS brand,
               (hash(i * 11) % 10 < 3)::INTEGER AS is_promo
        FROM range({lines}) t(i)) TO '{path}' (FORMAT parquet)""")


def tool(path: Path) -> float:
    con = DuckDBEngine()
    source = TableSource("transactions", path, None, None, None, None, None, None, None, None,
                         {"customer_id": "customer_id", "date": "date", "amount": "amount", "order_id": "order_id",
                          "category": "category", "brand": "brand", "promo": "is_promo"})
    t0 = time.perf_counter()
    raw = load_raw(con, source, path.parent)
    clean_transactions(con, raw, source, pd.Timestamp.today())
    features = build_customer_features(con, None)
    elapsed = time.perf_counter() - t0
    print(f"  tool: {len(features.frame):,} customers")
    return elapsed


def bare(path: Path) -> float:
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"""CREATE TEMP TABLE t AS SELECT DISTINCT CAST(customer_id AS VARCHAR) customer_id,
        CAST(date AS DATE) date, CAST(amount AS DOUBLE) amount, CAST(order_id AS VARCHAR) order_id, category, brand,
        CAST(is_promo AS DOUBLE) promo FROM read_parquet('{path}')
        WHERE customer_id IS NOT NULL AND date IS NOT NULL AND amount > 0 AND date <= current_date""")
    top = "SELECT {} FROM t GROUP BY 1 ORDER BY sum(amount) DESC LIMIT {}"
    cats = [r[0] for r in con.execute(top.format("category", 12)).fetchall()]
    brands = [r[0] for r in con.execute(top.format("brand", 10)).fetchall()]
    shares = [f"sum(amount) FILTER (WHERE category = '{c}') / sum(amount)" for c in cats]
    shares += [f"sum(amount) FILTER (WHERE brand = '{b}') / sum(amount)" for b in brands]
    frame = con.execute(f"""SELECT customer_id, date_diff('day', max(date), (SELECT max(date) + 1 FROM t)),
        count(DISTINCT order_id), sum(amount), sum(amount) / count(DISTINCT order_id),
        date_diff('day', min(date), (SELECT max(date) + 1 FROM t)), avg(promo), {', '.join(shares)}
        FROM t GROUP BY customer_id""").df()
    elapsed = time.perf_counter() - t0
    print(f"  bare: {len(frame):,} customers")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.parquet"
        t0 = time.perf_counter()
        make_file(path, args.lines, args.customers)
        print(f"{args.lines:,} lines, {args.customers:,} customers; file written in {time.perf_counter() - t0:.1f} s")
        t_bare = bare(path)
        t_tool = tool(path)
        print(f"bare DuckDB {t_bare:.1f} s | campaign-report {t_tool:.1f} s | ratio {t_tool / t_bare:.2f}")


if __name__ == "__main__":
    main()
