"""The benches the README quotes still run (issue #35: figures that hold). Tiny sizes: this checks that they work
and print what the README reads, not the figures themselves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_scale_bench_prints_every_stage_and_the_slopes() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "1500", "3000"],
                         capture_output=True, text=True, timeout=900, check=True).stdout
    rows = [line for line in out.splitlines() if "customers" in line and "report CPU" in line]
    assert len(rows) == 2, out
    for stage in ("load", "validate", "features", "segments", "experiment", "propensity", "uplift", "render"):
        assert f" {stage} " in rows[-1], (stage, rows[-1])
    assert "slope of CPU in customers" in out


def test_duckdb_has_a_memory_budget_by_default() -> None:
    """Without [engine] memory_limit, DuckDB spills beyond a budget instead of growing to 80 % of the machine."""
    from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine, default_memory_limit

    budget = default_memory_limit()
    assert budget is not None and 0.5 <= float(budget.removesuffix("GB")) <= 2.0
    engine = DuckDBEngine()
    try:
        shown = str(engine.scalar("SELECT current_setting('memory_limit')"))
        assert shown.endswith(("GiB", "MiB")) and float(shown.split()[0]) <= 2048, shown
        assert str(engine.scalar("SELECT current_setting('temp_directory')"))  # where it spills
    finally:
        engine.close()
