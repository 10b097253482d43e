"""End-to-end report time and peak memory on DuckDB and on Spark local[2], from 100k to 1M customers.

Data: the demo generator at N customers, written as Parquet, its purchase history extended with
copies shifted back by whole years (new order ids) to reach `--lines-per-customer` lines per customer
(50 by default: 1M customers -> 50M lines). The experiment window and its pre-period are untouched,
so the planted effects stay as generated.
Each run is its own process. Peak memory: the local Python process (ru_maxrss) and, for Spark, the
JVM and worker processes it starts (their RSS summed, sampled every 0.5 s).
Usage: python bench/engines.py [--customers 100000 1000000] [--engines duckdb spark] [--work /tmp/bench-engines]
                               [--duckdb-memory-limit 4GB]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare(work: Path, customers: int, lines_per_customer: float) -> Path:
    """Demo data at `customers`, as Parquet, purchase history extended to the target line count."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from campaign_report.analysis.demo import generate_demo

    out = work / f"data_{customers}"
    if (out / ".parquet_complete").exists():
        return out
    csv = work / f"csv_{customers}"
    if not (csv / ".complete").exists():
        generate_demo(csv, n_customers=customers)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    for name in ("customers", "assignment"):
        con.execute(f"COPY (SELECT * FROM read_csv('{csv / name}.csv', all_varchar=true)) "
                    f"TO '{out / name}.parquet' (FORMAT parquet)")
    base = con.execute(f"SELECT count(*) FROM read_csv('{csv}/transactions.csv')").fetchall()[0][0]
    factor = lines_per_customer * customers / base
    parts = ["SELECT order_id, customer_id, date, category, brand, amount, is_promo FROM tx"]
    for year in range(1, math.ceil(factor)):
        share = min(1.0, factor - year)
        parts.append(f"SELECT order_id + {year} * 1000000000, customer_id, date - {365 * year}, "
                     f"category, brand, amount, is_promo FROM tx WHERE hash(order_id, {year}) % 1000 < "
                     f"{int(share * 1000)}")
    con.execute(f"CREATE TEMP VIEW tx AS SELECT * FROM read_csv('{csv}/transactions.csv', "
                f"types={{'date': 'DATE', 'order_id': 'BIGINT', 'amount': 'DOUBLE'}})")
    con.execute(f"COPY ({' UNION ALL '.join(parts)}) TO '{out}/transactions.parquet' "
                f"(FORMAT parquet, ROW_GROUP_SIZE 1000000)")
    (out / "planted_truth.json").write_bytes((csv / "planted_truth.json").read_bytes())
    (out / ".parquet_complete").write_text("ok")
    return out


def config_text(data: Path, out: Path, engine: str, memory_limit: str | None = None) -> str:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for name in ("customers", "transactions"):
        text = text.replace(f'"demo_data/{name}.csv"', f'"{data / name}.parquet"')
    text = text.replace('"demo_data/assignment.csv"', f'"{data / "assignment"}.parquet"')
    text = text.replace('output_dir = "output"', f'output_dir = "{out}"')
    if memory_limit and engine == "duckdb":
        text = text.replace('kind = "duckdb"', f'kind = "duckdb"\nmemory_limit = "{memory_limit}"')
    if engine == "spark":
        text = text.replace('kind = "duckdb"', 'kind = "spark"\nmaster = "local[2]"\n\n[engine.conf]\n'
                                               '"spark.driver.memory" = "10g"')
    return text


class JvmPeak(threading.Thread):
    """Peak summed RSS of this process's children (the Spark JVM, joblib workers), sampled from /proc."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.running = True

    def run(self) -> None:
        me = str(os.getpid())
        while self.running:
            total = 0
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().split()
                    if stat[3] == me:
                        status = Path(f"/proc/{pid}/status").read_text()
                        total += int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS")))
                except (OSError, StopIteration, IndexError):
                    continue
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(0.5)


def one_run(work: Path, customers: int, engine: str, memory_limit: str | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    from campaign_report.pipeline.report import run_report

    data = work / f"data_{customers}"
    run_dir = work / f"run_{engine}_{customers}"
    run_dir.mkdir(exist_ok=True)
    config = run_dir / "config.toml"
    config.write_text(config_text(data, run_dir / "out", engine, memory_limit), encoding="utf-8")
    jvm = JvmPeak()
    jvm.start()
    t0 = time.perf_counter()
    outcome = run_report(config)
    total = time.perf_counter() - t0
    jvm.running = False
    results = json.loads((outcome.files["results.json"]).read_text(encoding="utf-8"))
    arpu = next(m for m in results["experiment"]["metrics"] if m["metric"] == "arpu")
    lines = next(i["rows"] for i in results["meta"]["inputs"] if i["name"] == "transactions")
    return {"engine": engine, "customers": customers, "lines": lines,
            "total_s": round(total, 1), "stages_s": {k: round(v, 1) for k, v in outcome.stage_seconds.items()},
            "python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "jvm_peak_mb": round(jvm.peak_kb / 1024), "arpu_rel_lift": arpu["rel_lift"], "arpu_p": arpu["p_value"],
            "auc": results["propensity"]["holdout"]["roc_auc"],
            "rfm": {s["name"]: s["size"] for s in results["rfm"]["segments"]}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="*", default=["duckdb", "spark"])
    parser.add_argument("--lines-per-customer", type=float, default=50.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-engines"))
    parser.add_argument("--duckdb-memory-limit", help='e.g. "4GB": DuckDB spills to disk beyond it')
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(one_run(args.work, int(args.one[0]), args.one[1], args.duckdb_memory_limit),
                         ensure_ascii=False))
        return
    for customers in args.customers:
        t0 = time.perf_counter()
        prepare(args.work, customers, args.lines_per_customer)
        print(f"data for {customers:,} customers ready in {time.perf_counter() - t0:.0f} s", flush=True)
        for engine in args.engines:
            limit = ["--duckdb-memory-limit", args.duckdb_memory_limit] if args.duckdb_memory_limit else []
            out = subprocess.run([sys.executable, __file__, "--work", str(args.work), *limit, "--one",
                                  str(customers), engine], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{engine} {customers}: failed\n{out.stderr[-3000:]}", flush=True)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            stages = "  ".join(f"{k} {v}" for k, v in row["stages_s"].items())
            print(f"{row['engine']:>6} {row['customers']:>9,} customers {row['lines'] or 0:>11,} lines | total "
                  f"{row['total_s']:>7} s | python peak {row['python_peak_mb']} MB, child processes (JVM, joblib "
                  f"workers) peak {row['jvm_peak_mb']} MB"
                  f" | {stages}", flush=True)
            print(f"        ARPU lift {row['arpu_rel_lift']:.6f} (p {row['arpu_p']:.3g}), holdout AUC "
                  f"{row['auc']:.4f}, RFM {row['rfm']}", flush=True)


if __name__ == "__main__":
    main()
