"""KMeans segments (k chosen automatically, MiniBatchKMeans above the size threshold) for 1M customers.

Usage: python bench/segments_1m.py [--customers 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from campaign_report.analysis.config import SegmentsConfig  # noqa: E402
from campaign_report.analysis.customers.rfm import analyze_rfm  # noqa: E402
from campaign_report.analysis.customers.segments import analyze_segments  # noqa: E402
from campaign_report.analysis.data.features import CAT_PREFIX, CustomerFeatures  # noqa: E402


def synthetic(n: int) -> CustomerFeatures:
    rng = np.random.default_rng(0)
    kind = rng.integers(0, 4, n)
    prefs = np.array([[.6, .2, .1, .1], [.1, .6, .2, .1], [.1, .1, .6, .2], [.2, .1, .1, .6]])
    shares = np.array([rng.dirichlet(30 * p) for p in prefs[kind[:5000]]])
    shares = shares[rng.integers(0, 5000, n)]
    frame = pd.DataFrame({"id": np.arange(n).astype(str), "recency_days": rng.integers(1, 365, n).astype(float),
                          "orders": rng.poisson(3 + 4 * kind).astype(float) + 1,
                          "promo_share": np.clip(0.1 + 0.15 * kind + rng.normal(0, .05, n), 0, 1)})
    frame["monetary"] = frame["orders"] * rng.lognormal(7 + 0.3 * kind, 0.3)
    frame["average_check"] = frame["monetary"] / frame["orders"]
    frame["tenure_days"] = 365.0
    for i, name in enumerate(["Одежда", "Обувь", "Туризм", "Велосипеды"]):
        frame[CAT_PREFIX + name] = shares[:, i]
    return CustomerFeatures(frame, date(2026, 11, 1), date(2025, 11, 1), (), (), True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    features = synthetic(args.customers)
    t0 = time.perf_counter()
    result, _, _ = analyze_segments(features, None, SegmentsConfig())
    t_clusters = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze_rfm(features.frame)
    t_rfm = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.customers:,} customers: clusters {t_clusters:.1f} s ({result.method}, k={result.k} of "
          f"{SegmentsConfig().k_min}..{SegmentsConfig().k_max}, silhouette {result.silhouette:.2f}), "
          f"RFM {t_rfm:.1f} s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
