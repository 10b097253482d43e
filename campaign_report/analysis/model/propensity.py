"""Propensity / activity-decline model: honest selection, holdout metrics, leakage guard, importance.

- Preprocessing (impute, scale, one-hot) lives inside each scikit-learn Pipeline, so it is fitted within
  cross-validation folds only.
- Seven candidates (configurable), each with a randomized hyper-parameter search under stratified
  5-fold CV on a stratified sample of the training part; ROC-AUC is the selection metric. Among candidates whose
  paired per-fold gap to the best is within one standard error of that gap, the simplest is chosen
  (SIMPLICITY order): a gain smaller than the CV noise does not justify a slower, less readable model.
- The chosen model is refitted on the training part and judged once on a stratified holdout:
  ROC-AUC, PR-AUC, and F1 / precision / recall at the threshold that maximises F1 on out-of-fold
  training predictions (chosen before the holdout is seen), plus calibration (Brier, binned, and the
  expected calibration error) and precision / recall at the target list's cut-off. Probabilities are
  Platt-calibrated on out-of-fold scores (a monotone map: the ranking is the model's).
- Leakage guard: a holdout AUC ≥ 0.995 is flagged; so is, by name, every feature that alone reaches
  AUC ≥ 0.98, or ≥ 0.88 and nearly as high (within 0.02) as all the other features together (a 3-fold
  CV of boosting without the suspects). A copy of the target with 10 % of values flipped scores 0.90
  alone: more than any honest single feature, and as much as the rest of a typical model.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.stats import loguniform, randint, spearmanr
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import (
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from campaign_report.analysis.config import PropensityConfig
from campaign_report.analysis.model.leakage import leak_suspects
from campaign_report.analysis.tables import Tabular

LEAK_MODEL_AUC = 0.995
SVC_MAX_ROWS = 2500
# Readable and light first; KNN keeps every training row and explains nothing, SVC needs calibration.
SIMPLICITY = ("logreg", "tree", "forest", "extra_trees", "boosting", "knn", "svc")
ID_NAME = re.compile(r"(^|_)(id|uuid|guid|код|номер)($|_)", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    model: str
    cv_score: float
    cv_std: float
    params: dict[str, str | float | int | None]
    fit_time: float
    fold_scores: tuple[float, ...] = ()  # ROC-AUC per CV fold (the same folds for all); () when subsampled


@dataclass(frozen=True)
class Holdout:
    roc_auc: float
    pr_auc: float
    f1: float
    precision: float
    recall: float
    threshold: float
    threshold_rule: str
    brier: float
    base_rate: float
    n: int
    calibration: tuple[tuple[float, float, int], ...]  # (mean predicted, observed rate, n) per bin
    calibration_error: float = math.nan  # expected calibration error: Σ n_b/N·|mean predicted − observed|
    # The target list's cut-off ([propensity] threshold) judged on the holdout: what the list is worth.
    cutoff: float = math.nan
    cutoff_share: float = math.nan  # share of holdout customers at or above the cut-off
    cutoff_precision: float = math.nan  # of them, the share who are positive
    cutoff_recall: float = math.nan  # of all positives, the share the list reaches


@dataclass(frozen=True)
class Importance:
    feature: str
    importance: float
    std: float
    direction: int  # +1: higher value -> higher probability, -1: lower value -> higher probability


@dataclass(frozen=True)
class Imputation:
    attribute: str
    n_missing: int
    n_imputed: int
    f1: float
    accuracy: float
    classes: tuple[str, ...]


@dataclass(frozen=True)
class ActionSegment:
    size: int
    share: float
    probability_mean: float
    profit_mean: float
    base_profit_mean: float
    probability_cut: float
    profit_cut: float
    promo_share: float | None
    base_promo_share: float | None
    average_check: float | None
    base_average_check: float | None
    top_categories: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TargetListSummary:
    path: str
    size: int
    above_threshold: int
    threshold: float
    score_filter: str | None
    top: tuple[tuple[str, float], ...]
    score_filter_name: str | None = None


@dataclass(frozen=True)
class PropensityResult(Tabular):
    PRIMARY: ClassVar[str] = "candidates"

    target: str
    target_source: str  # "label" | "derived"
    positive_rate: float
    n_train: int
    n_search: int
    n_holdout: int
    n_total: int
    features: tuple[str, ...]
    excluded_features: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    best: str
    holdout: Holdout
    importance: tuple[Importance, ...]
    gains: tuple[tuple[float, float], ...]  # (share of customers contacted, share of positives found)
    leak_features: tuple[tuple[str, float], ...]
    warnings: tuple[str, ...]
    search_seconds: float
    imputation: Imputation | None
    action_segment: ActionSegment | None
    target_list: TargetListSummary | None
    n_population: int = 0  # customers with a known outcome; more than n_total when fitted on a sample
    leak_reference_auc: float | None = None  # CV AUC of the features other than the leak suspects
    configured_exclusions: tuple[str, ...] = ()  # columns left out by the config ([propensity] exclude, profit)


def _search_space(name: str, seed: int) -> tuple[object, dict]:
    if name == "logreg":
        return LogisticRegression(max_iter=2000), {"model__C": loguniform(1e-3, 1e2)}
    if name == "knn":
        return KNeighborsClassifier(), {"model__n_neighbors": randint(5, 120),
                                        "model__weights": ["uniform", "distance"]}
    if name == "tree":
        return DecisionTreeClassifier(random_state=seed), {"model__max_depth": randint(2, 12),
                                                           "model__min_samples_leaf": randint(5, 120)}
    if name == "svc":
        return SVC(random_state=seed), {"model__C": loguniform(0.1, 10), "model__gamma": ["scale", 0.01, 0.1]}
    if name == "forest":
        return (RandomForestClassifier(n_estimators=80, random_state=seed),
                {"model__max_depth": [None, 6, 10, 16], "model__min_samples_leaf": randint(1, 25),
                 "model__max_features": ["sqrt", 0.5]})
    if name == "extra_trees":
        return (ExtraTreesClassifier(n_estimators=200, random_state=seed),
                {"model__max_depth": [None, 8, 14], "model__min_samples_leaf": randint(1, 20),
                 "model__max_features": ["sqrt", 0.5, 1.0]})
    if name == "boosting":
        return (HistGradientBoostingClassifier(random_state=seed),
                {"model__learning_rate": loguniform(0.02, 0.3), "model__max_leaf_nodes": randint(8, 64),
                 "model__min_samples_leaf": randint(10, 120)})
    raise ValueError(f"unknown model {name}")


def preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Impute and scale numbers, impute and one-hot categories; fitted inside each CV fold."""
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", min_frequency=10)), categorical),
    ])


def select_features(frame: pd.DataFrame, exclude: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Numeric and categorical model inputs; id-like columns (by name or one value per row) left out."""
    numeric, categorical, dropped = [], [], []
    for col in frame.columns:
        if col in exclude:
            continue
        series = frame[col]
        id_like = bool(ID_NAME.search(col)) or (
            series.nunique() == len(series) and not pd.api.types.is_float_dtype(series))
        if id_like or series.nunique(dropna=True) <= 1:
            dropped.append(col)
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            numeric.append(col)
        elif series.nunique() <= 50:
            categorical.append(col)
        else:
            dropped.append(col)
    return numeric, categorical, dropped


def _calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[tuple[float, float, int], ...]:
    order = np.argsort(p)
    return tuple((float(p[idx].mean()), float(y[idx].mean()), len(idx))
                 for idx in np.array_split(order, bins) if len(idx))


def _calibration_error(bins: tuple[tuple[float, float, int], ...]) -> float:
    total = sum(n for _, _, n in bins)
    return float(sum(n * abs(predicted - observed) for predicted, observed, n in bins) / total) if total else math.nan


def _cutoff_quality(y: np.ndarray, p: np.ndarray, cutoff: float) -> dict[str, float]:
    flagged = p >= cutoff
    return dict(cutoff=cutoff, cutoff_share=float(flagged.mean()),
                cutoff_precision=float(y[flagged].mean()) if flagged.any() else math.nan,
                cutoff_recall=float(y[flagged].sum() / max(y.sum(), 1)))


def _gains(y: np.ndarray, p: np.ndarray) -> tuple[tuple[float, float], ...]:
    order = np.argsort(-p)
    found = np.cumsum(y[order]) / max(y.sum(), 1)
    return tuple((d / 10, float(found[math.ceil(len(y) * d / 10) - 1])) for d in range(1, 11))


def choose_model(candidates: list[Candidate], folds: int) -> str:
    """The simplest candidate not detectably worse than the best one.

    Candidates scored on the same folds are compared by their paired per-fold differences from the best
    (mean difference within one standard error of that difference): the fold-to-fold noise all models
    share cancels out, so a real gap is not mistaken for noise. A candidate scored on other rows (SVC on
    its subsample) falls back to the best model's standard error."""
    top = max(candidates, key=lambda c: c.cv_score)

    def close(c: Candidate) -> bool:
        if c is top:
            return True
        if len(c.fold_scores) == len(top.fold_scores) > 1:
            diff = np.asarray(top.fold_scores) - np.asarray(c.fold_scores)
            return float(diff.mean()) <= float(diff.std(ddof=1)) / math.sqrt(len(diff))
        return c.cv_score >= top.cv_score - top.cv_std / math.sqrt(folds)

    return min((c for c in candidates if close(c)),
               key=lambda c: SIMPLICITY.index(c.model) if c.model in SIMPLICITY else 99).model


def out_of_fold_probability(model, x: pd.DataFrame, y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Scores for the customers the model learned from, each predicted by a model that did not see it.

    In-sample scores are optimistic (a distance-weighted KNN gives every training customer 1.0), so
    segments and lists built on labelled customers use these instead.
    """
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return cross_val_predict(clone(model), x, y, cv=cv, method="predict_proba")[:, 1]


def outcome_stratified_sample(frame: pd.DataFrame, y: np.ndarray, size: int, seed: int,
                              ) -> tuple[pd.DataFrame, np.ndarray]:
    """At most `size` customers, stratified by the outcome: the model is searched and fitted locally."""
    if len(frame) <= size:
        return frame, y
    keep, _ = train_test_split(np.arange(len(frame)), train_size=size, stratify=y, random_state=seed)
    keep = np.sort(keep)
    return frame.iloc[keep].reset_index(drop=True), y[keep]


def fit_propensity(train: pd.DataFrame, y: np.ndarray, settings: PropensityConfig, target: str,
                   target_source: str, exclude: set[str]) -> tuple[PropensityResult, Pipeline]:
    """Select, fit and evaluate the model; returns the result (no action segment/target list yet)."""
    seed = settings.seed
    numeric, categorical, dropped = select_features(train, exclude)
    features = numeric + categorical
    x = train[features]
    x_train, x_hold, y_train, y_hold = train_test_split(x, y, test_size=settings.holdout_share,
                                                        stratify=y, random_state=seed)
    n_search = min(settings.search_sample, len(x_train))
    if n_search < len(x_train):
        x_search, _, y_search, _ = train_test_split(x_train, y_train, train_size=n_search, stratify=y_train,
                                                    random_state=seed)
    else:
        x_search, y_search = x_train, y_train
    cv = StratifiedKFold(settings.cv_folds, shuffle=True, random_state=seed)
    candidates, fitted = [], {}
    started = time.perf_counter()
    for name in settings.models:
        estimator, space = _search_space(name, seed)
        pipe = Pipeline([("prep", preprocessor(numeric, categorical)), ("model", estimator)])
        xs, ys = (x_search, y_search)
        if name == "svc" and len(xs) > SVC_MAX_ROWS:
            xs, _, ys, _ = train_test_split(xs, ys, train_size=SVC_MAX_ROWS, stratify=ys, random_state=seed)
        search = RandomizedSearchCV(pipe, space, n_iter=settings.n_iter, scoring="roc_auc", cv=cv,
                                    random_state=seed, n_jobs=2, refit=False)
        t0 = time.perf_counter()
        search.fit(xs, ys)
        best = search.best_index_
        params = {k.removeprefix("model__"): (v if isinstance(v, (str, int, float)) or v is None else str(v))
                  for k, v in search.cv_results_["params"][best].items()}
        # Fold scores pair up only when the candidate saw the same rows (not SVC on its subsample).
        folds = () if len(xs) < len(x_search) else tuple(
            float(search.cv_results_[f"split{i}_test_score"][best]) for i in range(settings.cv_folds))
        candidates.append(Candidate(name, float(search.cv_results_["mean_test_score"][best]),
                                    float(search.cv_results_["std_test_score"][best]), params,
                                    time.perf_counter() - t0, folds))
        fitted[name] = pipe.set_params(**search.cv_results_["params"][best])
    search_seconds = time.perf_counter() - started
    best_name = choose_model(candidates, settings.cv_folds)
    model = fitted[best_name]
    # Probabilities a cut-off can be read by: Platt's monotone map on out-of-fold scores (ranking and AUC
    # stay the model's); on «В один клик» customers scored 0.6-0.8 had declined 95 % of the time.
    model = CalibratedClassifierCV(model, method="sigmoid", cv=3, ensemble=False)
    oof = cross_val_predict(clone(model), x_search, y_search, cv=cv, method="predict_proba")[:, 1]
    precision, recall, thresholds = precision_recall_curve(y_search, oof)
    f1s = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    threshold = float(thresholds[int(np.argmax(f1s[:-1]))]) if len(thresholds) else 0.5
    fit_x, fit_y = (x_search, y_search) if best_name in ("svc", "knn") else (x_train, y_train)
    model.fit(fit_x, fit_y)
    p_hold = model.predict_proba(x_hold)[:, 1]
    pred = p_hold >= threshold
    holdout = Holdout(
        roc_auc=float(roc_auc_score(y_hold, p_hold)), pr_auc=float(average_precision_score(y_hold, p_hold)),
        f1=float(f1_score(y_hold, pred)), precision=float(precision_score(y_hold, pred, zero_division=0)),
        recall=float(recall_score(y_hold, pred)), threshold=threshold, threshold_rule="max_f1_oof",
        brier=float(brier_score_loss(y_hold, p_hold)), base_rate=float(np.mean(y_hold)), n=len(y_hold),
        calibration=_calibration(y_hold, p_hold), calibration_error=_calibration_error(_calibration(y_hold, p_hold)),
        **_cutoff_quality(y_hold, p_hold, settings.threshold))
    n_perm = min(len(x_hold), 3000)
    perm = permutation_importance(model, x_hold.iloc[:n_perm], y_hold[:n_perm], scoring="roc_auc",
                                  n_repeats=5, random_state=seed)
    importance = []
    for i, col in enumerate(features):
        values = x_hold[col]
        rho = spearmanr(values.astype(float), p_hold, nan_policy="omit")[0] if col in numeric else 0.0
        importance.append(Importance(col, float(perm.importances_mean[i]), float(perm.importances_std[i]),
                                     1 if (rho or 0) >= 0 else -1))
    importance.sort(key=lambda imp: -imp.importance)
    leaks, rest_auc = leak_suspects(x_train, y_train, numeric, categorical, preprocessor, seed)
    warnings = []
    if holdout.roc_auc >= LEAK_MODEL_AUC:
        warnings.append("holdout_auc_too_high")
    if leaks:
        warnings.append("single_feature_leak")
    result = PropensityResult(
        target=target, target_source=target_source, positive_rate=float(np.mean(y)), n_train=len(fit_x),
        n_search=len(x_search), n_holdout=len(x_hold), n_total=len(x), features=tuple(features),
        excluded_features=tuple(dropped), candidates=tuple(candidates), best=best_name, holdout=holdout,
        importance=tuple(importance), gains=_gains(y_hold, p_hold), leak_features=leaks, leak_reference_auc=rest_auc,
        configured_exclusions=tuple(c for c in train.columns if c in exclude and c != "id"),
        warnings=tuple(warnings), search_seconds=search_seconds, imputation=None, action_segment=None,
        target_list=None)
    return result, model
