"""Seconds per stage and peak memory of a full report run, at the demo size and at 10x.

Each size runs in its own process so that peak RSS belongs to that run alone.
Usage: python bench/report_time.py [--sizes 20000 200000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(customers: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from campaign_report.analysis.demo import generate_demo
    from campaign_report.pipeline.report import run_report
    from tests.conftest import demo_config

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    t0 = time.perf_counter()
    truth = generate_demo(work / "data", n_customers=customers)
    generate_seconds = time.perf_counter() - t0
    config = work / "config.toml"
    config.write_text(demo_config(work / "data", work / "out", fast=False), encoding="utf-8")
    t0 = time.perf_counter()
    outcome = run_report(config)
    return {"customers": customers, "lines": truth.n_lines, "generate_s": round(generate_seconds, 1),
            "total_s": round(time.perf_counter() - t0, 1),
            "stages_s": {k: round(v, 1) for k, v in outcome.stage_seconds.items()},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 200_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one)))
        return
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True,
                             check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        stages = "  ".join(f"{k} {v}" for k, v in row["stages_s"].items())
        print(f"{row['customers']:>8} customers {row['lines']:>10} lines | total {row['total_s']:>6} s | "
              f"peak {row['peak_rss_mb']} MB | {stages} | (demo generation {row['generate_s']} s)")


if __name__ == "__main__":
    main()
