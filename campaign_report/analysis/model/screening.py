"""Rows the model should not learn from unseen: extreme values and zero-activity customers.

Checked on the numeric model inputs that look like amounts or counts (never negative, some above 1 — so
not a share —, at least 20 distinct values):
- an outlier is a value more than 5 robust standard deviations above the median on the log scale
  (log1p; robust SD = 1.4826 × MAD). Amounts are roughly log-normal, so an honest customer lies within 5
  and a typing slip or a corporate account does not (one_click: a month's revenue of 106,862 against a
  median near 5,000 is 20 robust SDs out);
- a zero-activity row has 0 in a column where at least 99 % of customers have a positive value (one_click:
  three customers with a zero-revenue month; they signed up during the period or their data are broken).
Both are counted in the data-quality appendix; with `[propensity] drop_outliers = true` the flagged
customers are left out of the model's training and holdout (they are still scored and listed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from campaign_report.analysis.data.clean import QualityIssue, TableQuality

ROBUST_Z = 5.0
POSITIVE_SHARE = 0.99
MIN_DISTINCT = 20


def _amount_like(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.dropna()
    # Shares and rates (never above 1) are bounded: neither extreme values nor "no activity" apply.
    return len(values) > 0 and bool((values >= 0).all()) and values.max() > 1 and values.nunique() >= MIN_DISTINCT


def screen_model_rows(table: pd.DataFrame, columns: list[str], drop: bool) -> tuple[np.ndarray, TableQuality]:
    """Boolean mask of the flagged rows of `table`, and the findings for the data-quality appendix."""
    flagged = np.zeros(len(table), dtype=bool)
    issues = []
    action = "dropped_from_model" if drop else "kept"
    for col in columns:
        if col not in table or not _amount_like(table[col]):
            continue
        values = table[col].astype(float)
        logged = np.log1p(values)
        median = float(logged.median())
        robust_sd = 1.4826 * float((logged - median).abs().median())
        if robust_sd > 0:
            high = ((logged - median) / robust_sd > ROBUST_Z).to_numpy()
            if high.any():
                flagged |= high
                issues.append(QualityIssue("outlier", col, int(high.sum()), action,
                                           maximum=float(values.max()), median=float(values.median())))
        known = values.dropna()
        zero = (values == 0).to_numpy()
        if zero.any() and (known > 0).mean() >= POSITIVE_SHARE:
            flagged |= zero
            issues.append(QualityIssue("zero_activity", col, int(zero.sum()), action))
    kept = len(table) - int(flagged.sum()) if drop else len(table)
    return flagged, TableQuality("model", len(table), kept, tuple(issues))
