"""CPU seconds and peak memory of every stage of a full report, at several sizes, with each stage's growth slope.

Each size is generated in one process and reported in another, so that neither's memory counts for the other.
Per stage: CPU = user + system time of the process and of the worker processes it waited for (the model search's);
peak memory = the process's resident high-water mark during the stage (Linux: reset before each stage through
/proc/self/clear_refs, read from VmHWM). The slope is d log(CPU) / d log(customers) between the smallest and the
largest size: 1 is linear; a stage above ~1.15 grows faster than the data and is a bug (issue #35).

Usage: python bench/scale.py [--sizes 20000 200000 1000000] [--memory-limit 4GB]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(customers: int, folder: str) -> dict:
    from campaign_report.analysis.demo import generate_demo

    started = time.perf_counter()
    truth = generate_demo(folder, n_customers=customers)
    return {"lines": truth.n_lines, "seconds": time.perf_counter() - started, "cpu": _cpu(), "peak_mb": _peak_mb()}


def report(folder: str, memory_limit: str | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from campaign_report.pipeline.report import run_report
    from tests.conftest import demo_config

    work = Path(folder)
    extra = f'memory_limit = "{memory_limit}"\n' if memory_limit else ""
    text = demo_config(work / "data", work / "out", fast=False)
    config = work / "config.toml"
    config.write_text(text.replace('kind = "duckdb"', 'kind = "duckdb"\n' + extra, 1), encoding="utf-8")
    stages: dict[str, dict[str, float]] = {}
    marks: dict[str, float] = {}

    def progress(stage: str, seconds: float | None) -> None:
        if seconds is None:
            _reset_peak()
            marks[stage] = _cpu()
        else:
            stages[stage] = {"cpu": _cpu() - marks[stage], "wall": seconds, "peak_mb": _peak_mb()}

    started, cpu0 = time.perf_counter(), _cpu()
    run_report(config, progress=progress)
    # Resetting the high-water mark per stage resets the process's as well: the run's peak is the stages' largest.
    return {"stages": stages, "wall": time.perf_counter() - started, "cpu": _cpu() - cpu0,
            "peak_mb": max([s["peak_mb"] for s in stages.values()] + [_peak_mb()])}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:  # say why: the child's own traceback, not only that it failed
        sys.exit(f"{' '.join(args[:2])} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 200_000, 1_000_000])
    parser.add_argument("--memory-limit", default=None, help='DuckDB memory_limit, e.g. "4GB" (default: DuckDB\'s)')
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--report", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        print(json.dumps(generate(int(args.generate[0]), args.generate[1])))
        return
    if args.report:
        print(json.dumps(report(args.report[0], args.report[1] or None)))
        return
    load = os.getloadavg()[0]
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {load:.1f} at start, "
          f"memory_limit {args.memory_limit or 'DuckDB default'}")
    rows = []
    for size in args.sizes:
        work = tempfile.mkdtemp(prefix=f"bench-scale-{size}-")
        made = _child(["--generate", str(size), str(Path(work) / "data")])
        run = _child(["--report", work, args.memory_limit or ""])
        rows.append((size, made, run))
        stages = "  ".join(f"{k} {v['cpu']:.1f}s/{v['peak_mb']:.0f}MB" for k, v in run["stages"].items())
        print(f"{size:>9,} customers {made['lines']:>11,} lines | report CPU {run['cpu']:7.1f} s, wall "
              f"{run['wall']:6.1f} s, peak {run['peak_mb']:6.0f} MB | generator {made['cpu']:.0f} s CPU, "
              f"{made['peak_mb']:.0f} MB | {stages}", flush=True)
    if len(rows) >= 2:
        (n0, _, first), (n1, _, last) = rows[0], rows[-1]
        print(f"slope of CPU in customers, {n0:,} -> {n1:,} (1 = linear):")
        for stage in last["stages"]:
            a, b = first["stages"].get(stage, {}).get("cpu"), last["stages"][stage]["cpu"]
            if a and b and a > 0.05:
                print(f"  {stage:<12} {math.log(b / a) / math.log(n1 / n0):5.2f}   ({a:.1f} s -> {b:.1f} s)")


if __name__ == "__main__":
    main()
