"""The leakage guard: features that alone predict the target about as well as everything else.

A feature that alone reaches ROC-AUC ≥ 0.98 is named. So is one that reaches ≥ 0.88 and comes within
0.02 of all the other features together (a 3-fold CV of boosting without the suspects, on at most 4,000
customers). A copy of the target with 10 % of its values flipped scores 0.90 alone: more than any
honest single driver, and as much as the rest of a typical model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

LEAK_FEATURE_AUC = 0.98
LEAK_SUSPECT_AUC = 0.88  # a feature alone this predictive is compared with all the others together
LEAK_MARGIN = 0.02
LEAK_SAMPLE = 4000


def single_feature_auc(x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    """AUC of each feature used alone (categoricals by their mean target), folded to ≥ 0.5."""
    out = {}
    for col in x.columns:
        s = x[col]
        if pd.api.types.is_numeric_dtype(s):
            values = s.fillna(s.median()).to_numpy(dtype=float)
        else:
            values = s.astype(str).map(pd.Series(y, index=s.index).groupby(s.astype(str)).mean()).to_numpy()
        if np.unique(values).size < 2:
            continue
        auc = roc_auc_score(y, values)
        out[col] = max(auc, 1 - auc)
    return out


def leak_suspects(x: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str],
                  preprocessor: Callable[[list[str], list[str]], ColumnTransformer], seed: int,
                  ) -> tuple[tuple[tuple[str, float], ...], float | None]:
    """Features that alone predict the target nearly as well as everything else together, with their AUC,
    and the cross-validated AUC of the other features (None when no feature was suspect)."""
    single = single_feature_auc(x, y)
    suspects = {c: a for c, a in single.items() if a >= LEAK_SUSPECT_AUC}
    if not suspects:
        return (), None
    rest = 0.5
    others_num = [c for c in numeric if c not in suspects]
    others_cat = [c for c in categorical if c not in suspects]
    if others_num or others_cat:
        xs, ys = x, y
        if len(x) > LEAK_SAMPLE:
            xs, _, ys, _ = train_test_split(x, y, train_size=LEAK_SAMPLE, stratify=y, random_state=seed)
        pipe = Pipeline([("prep", preprocessor(others_num, others_cat)),
                         ("model", HistGradientBoostingClassifier(max_iter=100, random_state=seed))])
        rest = float(cross_val_score(pipe, xs[others_num + others_cat], ys, scoring="roc_auc",
                                     cv=StratifiedKFold(3, shuffle=True, random_state=seed)).mean())
    named = [(c, a) for c, a in suspects.items() if a >= LEAK_FEATURE_AUC or a >= rest - LEAK_MARGIN]
    return tuple(sorted(named, key=lambda t: -t[1])), rest
