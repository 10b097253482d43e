"""Customer value at scale: the lifetime stage on simulated purchase logs of 100k and 1M customers.

Prints, per size: purchase lines, the engine's per-customer summary (seconds), distinct (x, t_x, T) triples,
the BG/NBD fit (seconds), the whole stage with its holdout check and Gamma-Gamma (seconds), and the fitted
parameters against the planted ones (CDNOW's: r 0.243, α 4.414, a 0.793, b 2.426).

    .venv/bin/python bench/lifetime_fit.py [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaign_report.analysis.customers.lifetime import (  # noqa: E402
    _triples,
    analyze_lifetime,
    customer_summary,
    fit_purchases,
)
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from tests.purchase_log import START, WINDOW_DAYS, simulate_purchases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    end = START + timedelta(days=WINDOW_DAYS)
    print(f"{'customers':>10} {'lines':>10} {'summary s':>10} {'triples':>9} {'fit s':>7} {'stage s':>8}  "
          "fitted r, α, a, b")
    for n in args.sizes:
        log = simulate_purchases(n, seed=7)
        engine = DuckDBEngine()
        lines = log.lines.assign(customer_id=log.lines["customer_id"].astype(str),
                                 date=pd.Timestamp(START) + pd.to_timedelta(log.lines["day"], unit="D"))
        engine.register("_lines", lines[["customer_id", "date", "amount"]])
        engine.table("tx", "SELECT customer_id, customer_id || '|' || CAST(CAST(date AS DATE) AS VARCHAR) AS order_id, "
                           "CAST(date AS DATE) AS date, amount FROM _lines")
        t0 = time.perf_counter()
        summary = customer_summary(engine, end)
        t1 = time.perf_counter()
        triples = len(_triples(summary))
        fit = fit_purchases(summary)
        t2 = time.perf_counter()
        analyze_lifetime(engine, START, end, 365, None, None, None)
        t3 = time.perf_counter()
        params = ", ".join(f"{v:.3f}" for v in fit.params.values())
        print(f"{n:>10,} {len(log.lines):>10,} {t1 - t0:>10.2f} {triples:>9,} {t2 - t1:>7.2f} {t3 - t2:>8.2f}  "
              f"{params}")
        engine.close()


if __name__ == "__main__":
    main()
