"""Model-selection time for 100,000 customers x 30 features (default settings: seven models, raced randomized search).

Usage: python bench/propensity_search.py [--customers 100000] [--features 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from campaign_report.analysis.config import PropensityConfig  # noqa: E402
from campaign_report.analysis.model.propensity import fit_propensity  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=30)
    args = parser.parse_args()
    x, y = make_classification(args.customers, args.features, n_informative=8, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(args.features)])
    frame["segment"] = np.random.default_rng(0).choice(list("abcde"), size=args.customers)
    t0 = time.perf_counter()
    result = fit_propensity(frame, y, PropensityConfig(), "y", "label", exclude=set()).result
    total = time.perf_counter() - t0
    print(f"{args.customers:,} customers x {args.features + 1} features: total {total:.1f} s "
          f"(search {result.search_seconds:.1f} s on a {result.n_search:,}-row sample; chosen {result.best}, "
          f"holdout ROC-AUC {result.holdout.roc_auc:.3f})")
    for c in sorted(result.candidates, key=lambda c: -c.cv_score):
        print(f"  {c.model:<9} CV ROC-AUC {c.cv_score:.4f} ± {c.cv_std:.4f}  search {c.fit_time:5.1f} s")


if __name__ == "__main__":
    main()
