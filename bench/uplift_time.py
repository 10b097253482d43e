"""Seconds of the uplift stage (every learner cross-fitted, bootstrap, final fit, list) on the demo and on
Hillstrom, with each candidate's share of it.

The other stages run too (the uplift stage needs the experiment's outcomes), but propensity and segments
are left out of the configs, so the run is short. Hillstrom is skipped without the public data sets.
Usage: python bench/uplift_time.py [--customers 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _stage(config_text: str, folder: Path, label: str) -> None:
    import campaign_report as cr

    path = folder / "config.toml"
    path.write_text(config_text, encoding="utf-8")
    timings: dict[str, float] = {}
    results = cr.analyze(cr.load_config(path), timings=timings)
    u = results.uplift
    assert u is not None, "the uplift stage did not run"
    for arm in u.arms:
        n = arm.n_treatment + arm.n_control
        fits = ", ".join(f"{c.model} {c.fit_seconds:.1f}" for c in arm.candidates)
        print(f"{label} · {arm.treatment}: {n:,} customers, chosen {arm.model}; cross-fitting s: {fits}")
    print(f"{label}: uplift stage {timings['uplift']:.1f} s (list of {u.list.size if u.list else 0:,}); "
          f"whole run {sum(timings.values()):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from campaign_report.analysis.demo import generate_demo
    from tests.conftest import DATASETS

    work = Path(tempfile.mkdtemp(prefix="bench-uplift-"))
    generate_demo(work / "data", n_customers=args.customers)
    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace('"demo_data/', f'"{work / "data"}/')
    for section in ("[segments]", "[propensity]"):
        head, _, tail = text.partition(section)
        text = head + tail[tail.index("\n["):] if section in text else text
    text = text.replace('label = "activity"\npositive = "Снизилась"\n', "")
    _stage(text, work, f"demo {args.customers:,}")
    hillstrom = ROOT / "examples" / "hillstrom" / "config.toml"
    if (DATASETS / "hillstrom").exists():
        os.environ["CAMPAIGN_REPORT_DATASETS"] = str(DATASETS)  # the config is read from a temporary folder
        _stage(hillstrom.read_text(encoding="utf-8"), Path(tempfile.mkdtemp(prefix="bench-hill-")), "hillstrom 64,000")
    else:
        print("hillstrom: skipped (no public data sets)")


if __name__ == "__main__":
    main()
