"""Candidate models and their hyper-parameter search on cached, preprocessed folds.

Preprocessing (impute, scale, one-hot) is fitted on each fold's training part only, once, and reused by
every candidate and every parameter draw: it used to be refitted for each of the ~200 fits and cost as
much as the small models themselves. Every candidate is scored on the same folds, so per-fold scores pair
up for the choice rule (SVC learns from a stratified subsample of each training fold but is judged on the
same validation folds). The (parameter draw, fold) fits run on two threads, with one BLAS / OpenMP thread
each: the estimators release the GIL, nothing is pickled, and nothing is oversubscribed.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import loguniform, randint
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterSampler, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import ThreadpoolController, threadpool_limits

# SVC's fit grows with the square of the rows; beyond this it learns from a sample (2,000 cost 0.4 s more on
# the demo for the same CV ROC-AUC).
SVC_MAX_ROWS = 1500
N_THREADS = 2
RACE_FOLDS = 2
# The search compares parameter draws with about an eighth of the trees the kept model grows (FINAL_TREES):
# a forest's ranking of draws settles long before its score does. Halving them from 40 / 60 cost the
# candidates' CV ROC-AUC 0.001-0.002 and changed no choice on one_click or the demo, and saved 1.0 s and 2.6 s.
SEARCH_TREES = {"forest": 25, "extra_trees": 30}


def search_space(name: str, seed: int) -> tuple[Any, dict]:
    """The estimator and its parameter distributions (names without the pipeline prefix)."""
    if name == "logreg":
        return LogisticRegression(max_iter=2000), {"C": loguniform(1e-3, 1e2)}
    if name == "knn":
        return KNeighborsClassifier(), {"n_neighbors": randint(5, 120), "weights": ["uniform", "distance"]}
    if name == "tree":
        return DecisionTreeClassifier(random_state=seed), {"max_depth": randint(2, 12),
                                                           "min_samples_leaf": randint(5, 120)}
    if name == "svc":
        return SVC(random_state=seed), {"C": loguniform(0.1, 10), "gamma": ["scale", 0.01, 0.1]}
    if name == "forest":
        return (RandomForestClassifier(n_estimators=SEARCH_TREES["forest"], random_state=seed),
                {"max_depth": [None, 6, 10, 16], "min_samples_leaf": randint(1, 25), "max_features": ["sqrt", 0.5]})
    if name == "extra_trees":
        return (ExtraTreesClassifier(n_estimators=SEARCH_TREES["extra_trees"], random_state=seed),
                {"max_depth": [None, 8, 14], "min_samples_leaf": randint(1, 20), "max_features": ["sqrt", 0.5, 1.0]})
    if name == "boosting":
        # Early stopping on an inner 10 % split: a slow learning rate no longer buys 100 full rounds.
        return (HistGradientBoostingClassifier(random_state=seed, max_iter=120, early_stopping=True,
                                               n_iter_no_change=10),
                {"learning_rate": loguniform(0.04, 0.3), "max_leaf_nodes": randint(8, 64),
                 "min_samples_leaf": randint(10, 120)})
    raise ValueError(f"unknown model {name}")


def preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Impute and scale numbers, impute and one-hot categories (dense: boosting takes no sparse input)."""
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", min_frequency=10, sparse_output=False)),
         categorical),
    ])


FINAL_TREES = {"forest": 160, "extra_trees": 250}
# The out-of-fold scores that calibrate the kept model and score the customers it learned from grow fewer trees:
# they rank within 0.0002 ROC-AUC of the full forest's and give the same holdout Brier score (demo with a derived
# target, extra trees: OOF ROC-AUC 0.86959 vs 0.86977, Brier 0.13772 vs 0.13773), at a third of the CPU
# (the model stage 56 -> 36 s). The search's own out-of-fold scores, used when it ran on every row, have fewer still.
OOF_TREES = 60


def final_estimator(name: str, params: dict, seed: int) -> Any:
    """The chosen model as it is refitted and kept: the searched parameters, the full number of trees,
    and predictions on both threads (scoring every customer, permutation importance)."""
    estimator, _ = search_space(name, seed)
    estimator.set_params(**params)
    if name in FINAL_TREES:
        estimator.set_params(n_estimators=FINAL_TREES[name], n_jobs=N_THREADS)
    return estimator


def raw_score(model, x) -> np.ndarray:
    """The model's ranking score: its decision function (log-odds for logistic regression and boosting,
    the margin for SVC) where it has one, as Platt scaling expects; else the positive-class probability."""
    if hasattr(model, "decision_function"):
        return model.decision_function(x)
    return model.predict_proba(x)[:, 1]


@dataclass(frozen=True)
class Fold:
    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_rows: np.ndarray  # positions of the validation rows in the searched table


@dataclass(frozen=True)
class Searched:
    """One model's best parameter draw: its per-fold ROC-AUC and out-of-fold scores on the searched rows."""

    model: str
    params: dict
    fold_scores: tuple[float, ...]
    oof_score: np.ndarray
    seconds: float


def cached_folds(x: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], folds: int,
                 seed: int) -> list[Fold]:
    """Stratified folds, each preprocessed once (fitted on its training part)."""
    out = []
    for fit_rows, val_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        prep = preprocessor(numeric, categorical).fit(x.iloc[fit_rows])
        out.append(Fold(prep.transform(x.iloc[fit_rows]), y[fit_rows], prep.transform(x.iloc[val_rows]), y[val_rows],
                        val_rows))
    return out


@functools.lru_cache(maxsize=1)
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


def _fit_score(estimator, params: dict, fold: Fold, max_rows: int | None, seed: int) -> np.ndarray:
    x_fit, y_fit = fold.x_fit, fold.y_fit
    if max_rows is not None and len(y_fit) > max_rows:
        x_fit, _, y_fit, _ = train_test_split(x_fit, y_fit, train_size=max_rows, stratify=y_fit, random_state=seed)
    model = clone(estimator).set_params(**params)
    if not isinstance(model, HistGradientBoostingClassifier):
        return raw_score(model.fit(x_fit, y_fit), fold.x_val)
    # OpenMP's thread count is a per-thread setting: the caller's limit of one does not reach this worker
    # thread, where boosting started a team of two on each of the two workers and they spun against each
    # other (demo: boosting's search 3.7 s, 2.0 s with the limit set here).
    with _thread_pools().limit(limits=1, user_api="openmp"):
        return raw_score(model.fit(x_fit, y_fit), fold.x_val)


def _race(parallel: Parallel, name: str, folds: list[Fold], n_rows: int, n_iter: int, seed: int) -> Searched:
    started = time.perf_counter()
    estimator, space = search_space(name, seed)
    draws = list(ParameterSampler(space, n_iter, random_state=seed))
    max_rows = SVC_MAX_ROWS if name == "svc" else None
    first = min(RACE_FOLDS, len(folds))
    scores: dict[tuple[int, int], np.ndarray] = {}
    auc: dict[tuple[int, int], float] = {}

    def run(jobs: list[tuple[int, int]]) -> None:
        done = parallel(delayed(_fit_score)(estimator, draws[d], folds[f], max_rows, seed) for d, f in jobs)
        for (d, f), score in zip(jobs, done, strict=True):
            scores[d, f] = score
            auc[d, f] = float(roc_auc_score(folds[f].y_val, score))

    run([(d, f) for d in range(len(draws)) for f in range(first)])
    ahead = sorted(range(len(draws)), key=lambda d: -np.mean([auc[d, f] for f in range(first)]))
    survivors = ahead[:max(1, math.ceil(len(draws) / 3))]
    run([(d, f) for d in survivors for f in range(first, len(folds))])
    best = max(survivors, key=lambda d: np.mean([auc[d, f] for f in range(len(folds))]))
    oof = np.empty(n_rows)
    for f, fold in enumerate(folds):
        oof[fold.val_rows] = scores[best, f]
    params = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in draws[best].items()}
    return Searched(name, params, tuple(auc[best, f] for f in range(len(folds))), oof, time.perf_counter() - started)


def search_models(models: tuple[str, ...], folds: list[Fold], n_rows: int, n_iter: int, seed: int,
                  ) -> list[Searched]:
    """A randomized search per model (n_iter draws, the same draws as a RandomizedSearchCV with this seed),
    raced: every draw is scored on the first RACE_FOLDS folds, and only the best third goes on to the rest.
    A draw that trails on two folds rarely wins on five, and the race saves 40 % of the fits; the winner is
    chosen on all folds, so every candidate keeps a full set of paired fold scores."""
    with threadpool_limits(limits=1), Parallel(n_jobs=N_THREADS, prefer="threads") as parallel:
        return [_race(parallel, name, folds, n_rows, n_iter, seed) for name in models]


def fold_scores_of(name: str, params: dict, folds: list[Fold], n_rows: int, seed: int) -> np.ndarray:
    """Out-of-fold ranking scores of the chosen model (the folds fitted in parallel; forests with OOF_TREES)."""
    estimator = final_estimator(name, params, seed)
    if name in FINAL_TREES:
        estimator.set_params(n_estimators=OOF_TREES, n_jobs=1)
    max_rows = SVC_MAX_ROWS if name == "svc" else None
    with threadpool_limits(limits=1):
        scores = Parallel(n_jobs=N_THREADS, prefer="threads")(
            delayed(_fit_score)(estimator, params, fold, max_rows, seed) for fold in folds)
    oof = np.empty(n_rows)
    for fold, score in zip(folds, scores, strict=True):
        oof[fold.val_rows] = score
    return oof
