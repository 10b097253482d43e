"""Propensity / activity-decline model: honest selection, holdout metrics, leakage guard, importance.

- Preprocessing (impute, scale, one-hot) is fitted inside each cross-validation fold only, once per fold
  and shared by every candidate (model/search.py).
- Seven candidates (configurable), each with a randomized hyper-parameter search under stratified
  5-fold CV on a stratified sample of the training part; ROC-AUC is the selection metric. Among candidates whose
  paired per-fold gap to the best is within one standard error of that gap, the simplest is chosen
  (SIMPLICITY order): a gain smaller than the CV noise does not justify a slower, less readable model.
- The chosen model is refitted on the training part and judged once on a stratified holdout:
  ROC-AUC, PR-AUC, and F1 / precision / recall at the threshold that maximises F1 on out-of-fold
  training predictions (chosen before the holdout is seen), plus calibration (Brier, binned, and the
  expected calibration error). Probabilities are Platt-calibrated on out-of-fold scores (a monotone map:
  the ranking is the model's); the same out-of-fold scores give the customers the model learned from
  their honest probabilities, so nothing is refitted for them.
- Leakage guard: a holdout AUC ≥ 0.995 is flagged; so is, by name, every feature that alone reaches
  AUC ≥ 0.98, or ≥ 0.88 and nearly as high (within 0.02) as all the other features together (a 3-fold
  CV of boosting without the suspects). A copy of the target with 10 % of values flipped scores 0.90
  alone: more than any honest single feature, and as much as the rest of a typical model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from campaign_report.analysis.config import PropensityConfig
from campaign_report.analysis.experiment.result import SegmentEffect
from campaign_report.analysis.model.calibration import (
    PlattCalibrated,
    calibration_bins,
    calibration_error,
    platt_sigmoid,
)
from campaign_report.analysis.model.importance import conditional_directions, permutation_drops
from campaign_report.analysis.model.leakage import leak_suspects
from campaign_report.analysis.model.search import (
    SVC_MAX_ROWS,
    cached_folds,
    final_estimator,
    fold_scores_of,
    preprocessor,
    search_models,
)
from campaign_report.analysis.tables import Tabular

LEAK_MODEL_AUC = 0.995
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
    cutoff_rule: str = ""  # the list's cut-off as decided: "top 500", "top 20%", "precision 0.9", "probability 0.8"
    cutoff_reached: bool = True  # False when a precision target is out of the model's reach


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
class MainCluster:
    """The cluster that holds most of the segment to act on, with what this campaign did there: a segment the
    campaign did not move is not retained by more of the same campaign."""

    name: str
    customers: int  # of the segment, in this cluster
    effect: SegmentEffect | None  # the campaign's primary-metric effect in the cluster; None: not measured


@dataclass(frozen=True)
class ActionSegment:
    """Whom to act on first: the target list's customers worth the most (see targeting.action_segment)."""

    size: int
    share: float  # of the scored population
    list_size: int  # the list it is drawn from (size <= list_size)
    probability_mean: float
    value_basis: str  # "profit" | "margin" | "revenue" | "none": what value_* measure (MoneyMeaning.value_basis)
    value_mean: float
    value_total: float  # the segment's value together: what acting on it is about (the documents' money at stake)
    # What the model expects of the segment before anyone acts: how many will have the outcome (the sum of their
    # calibrated probabilities) and the value of those customers (each customer's value times that probability).
    # Not an offer's effect: no data here measure one.
    expected_outcomes: float
    value_expected: float
    base_value_mean: float  # over the scored population
    probability_cut: float  # the lowest probability on the list
    value_cut: float  # the scored population's median value: the segment is at or above it
    promo_share: float | None
    base_promo_share: float | None
    average_check: float | None
    base_average_check: float | None
    top_categories: tuple[tuple[str, float], ...]
    # Of the segment, customers the lifetime model also counts as slipping away (its own list, by P(alive)): how
    # the two lists relate. None when that model did not run or did not fit.
    also_slipping: int | None = None
    # Of the segment, customers who may not be messaged (no consent, or none recorded); None without a consent
    # column.
    no_consent: int | None = None
    main_cluster: MainCluster | None = None  # when one cluster holds most of the segment


@dataclass(frozen=True)
class KnownOutcomes:
    """The list against the label where the data already record it: a list ranked by the model holds some
    customers whose recorded outcome is the other one, and leaves out some with the outcome (below the cut-off)."""

    on_list: int  # list members whose outcome is recorded
    positive_on_list: int  # of them, with the label's positive value
    positive_off_list: int  # scored customers with the positive value who are not on the list


@dataclass(frozen=True)
class TargetListSummary:
    path: str
    size: int
    above_threshold: int
    threshold: float
    score_filter: str | None
    top: tuple[tuple[str, float], ...]
    score_filter_name: str | None = None
    cutoff_rule: str = ""  # who is on the list (`within_cutoff` in target_list.csv): as Holdout.cutoff_rule
    cutoff_kind: str = "probability"  # top_n | top_share | precision | probability
    cutoff_value: float = math.nan  # customers, a share, a precision or a probability (per kind)
    no_consent: int | None = None  # of the list, customers who may not be messaged; None without a consent column
    known: KnownOutcomes | None = None  # None when no list member's outcome is recorded


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
    features_before: str | None = None  # the model learned from purchases before this day ([propensity])


@dataclass(frozen=True)
class FittedModel:
    """The result and what the run needs besides: the model and honest scores (never in-sample)."""

    result: PropensityResult
    model: PlattCalibrated
    labelled_probability: np.ndarray  # per row of the fitted table: out-of-fold or out-of-sample
    y_oof: np.ndarray  # the training customers' outcomes ...
    p_oof: np.ndarray  # ... and their out-of-fold probabilities (a precision target is set on these)
    y_hold: np.ndarray
    p_hold: np.ndarray


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


def outcome_stratified_sample(frame: pd.DataFrame, y: np.ndarray, size: int, seed: int,
                              ) -> tuple[pd.DataFrame, np.ndarray]:
    """At most `size` customers, stratified by the outcome: the model is searched and fitted locally."""
    if len(frame) <= size:
        return frame, y
    keep, _ = train_test_split(np.arange(len(frame)), train_size=size, stratify=y, random_state=seed)
    keep = np.sort(keep)
    return frame.iloc[keep].reset_index(drop=True), y[keep]


def holdout_split(y: np.ndarray, settings: PropensityConfig) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training part and of the stratified holdout (the bench reuses the same split)."""
    return train_test_split(np.arange(len(y)), test_size=settings.holdout_share, stratify=y,
                            random_state=settings.seed)


def fit_propensity(train: pd.DataFrame, y: np.ndarray, settings: PropensityConfig, target: str,
                   target_source: str, exclude: set[str]) -> FittedModel:
    """Select, fit and evaluate the model; the result has no action segment or target list yet."""
    # One OpenMP thread: the work is parallel at the level of folds, and boosting's OpenMP team, when the
    # cores are busy, spins: a 0.5 s fit took 7.5 s with two threads on a loaded 2-core machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        return _fit(train, y, settings, target, target_source, exclude)


def _fit(train: pd.DataFrame, y: np.ndarray, settings: PropensityConfig, target: str, target_source: str,
         exclude: set[str]) -> FittedModel:
    seed = settings.seed
    numeric, categorical, dropped = select_features(train, exclude)
    features = numeric + categorical
    x = train[features]
    train_idx, hold_idx = holdout_split(y, settings)
    x_train, x_hold, y_train, y_hold = x.iloc[train_idx], x.iloc[hold_idx], y[train_idx], y[hold_idx]
    search_rows = np.arange(len(train_idx))
    if settings.search_sample < len(train_idx):
        search_rows, _ = train_test_split(search_rows, train_size=settings.search_sample, stratify=y_train,
                                          random_state=seed)
    x_search, y_search = x_train.iloc[search_rows], y_train[search_rows]
    folds = cached_folds(x_search, y_search, numeric, categorical, settings.cv_folds, seed)
    searched = {s.model: s for s in search_models(settings.models, folds, len(y_search), settings.n_iter, seed)}
    candidates = [Candidate(s.model, float(np.mean(s.fold_scores)), float(np.std(s.fold_scores)),
                            {k: v if isinstance(v, (str, int, float)) or v is None else str(v)
                             for k, v in s.params.items()}, s.seconds, s.fold_scores) for s in searched.values()]
    search_seconds = sum(c.fit_time for c in candidates)
    best_name = choose_model(candidates, settings.cv_folds)
    pipeline = Pipeline([("prep", preprocessor(numeric, categorical)),
                         ("model", final_estimator(best_name, searched[best_name].params, seed))])
    # KNN and SVC stay on the searched sample (they keep or weigh every row); the others learn from the
    # whole training part, and their out-of-fold scores are computed on it (5 more fits, no search).
    if best_name in ("svc", "knn") or len(search_rows) == len(train_idx):
        fit_rows, oof_raw = train_idx[search_rows], searched[best_name].oof_score
    else:
        fit_rows = train_idx
        oof_raw = fold_scores_of(best_name, searched[best_name].params, cached_folds(
            x_train, y_train, numeric, categorical, settings.cv_folds, seed), len(train_idx), seed)
    y_fit = y[fit_rows]
    # Probabilities a cut-off can be read by: Platt's monotone map on out-of-fold scores (ranking and AUC
    # stay the model's); on «В один клик» customers scored 0.6-0.8 had declined 95 % of the time.
    sigmoid = platt_sigmoid(oof_raw, y_fit)
    oof = sigmoid.predict_proba(oof_raw.reshape(-1, 1))[:, 1]
    precision, recall, thresholds = precision_recall_curve(y_fit, oof)
    f1s = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    threshold = float(thresholds[int(np.argmax(f1s[:-1]))]) if len(thresholds) else 0.5
    final_rows = fit_rows
    if best_name == "svc" and len(fit_rows) > SVC_MAX_ROWS:
        final_rows, _ = train_test_split(fit_rows, train_size=SVC_MAX_ROWS, stratify=y_fit, random_state=seed)
    pipeline.fit(x.iloc[final_rows], y[final_rows])
    model = PlattCalibrated(pipeline, sigmoid)
    p_hold = model.predict_proba(x_hold)[:, 1]
    pred = p_hold >= threshold
    bins = calibration_bins(y_hold, p_hold)
    holdout = Holdout(
        roc_auc=float(roc_auc_score(y_hold, p_hold)), pr_auc=float(average_precision_score(y_hold, p_hold)),
        f1=float(f1_score(y_hold, pred)), precision=float(precision_score(y_hold, pred, zero_division=0)),
        recall=float(recall_score(y_hold, pred)), threshold=threshold, threshold_rule="max_f1_oof",
        brier=float(brier_score_loss(y_hold, p_hold)), base_rate=float(np.mean(y_hold)), n=len(y_hold),
        calibration=bins, calibration_error=calibration_error(bins))
    n_perm = min(len(x_hold), 3000)
    # The calibrated model ranks exactly as the pipeline: the same AUC drops, without the sigmoid.
    drop_mean, drop_sd = permutation_drops(pipeline, x_hold.iloc[:n_perm], y_hold[:n_perm], numeric, categorical,
                                           n_repeats=3, seed=seed)
    importance = []
    # A direction is the sign of a mean over customers: a thousand settle it, and a deep forest's predictions
    # on 3,000 rows twice per feature cost 6 s of CPU (demo, derived target).
    directions = conditional_directions(pipeline, x_hold.iloc[:min(n_perm, 1000)], numeric)
    for i, col in enumerate(features):
        importance.append(Importance(col, float(drop_mean[i]), float(drop_sd[i]), directions.get(col, 1)))
    importance.sort(key=lambda imp: -imp.importance)
    leaks, rest_auc = leak_suspects(x_train, y_train, numeric, categorical, preprocessor, seed)
    warnings = []
    if holdout.roc_auc >= LEAK_MODEL_AUC:
        warnings.append("holdout_auc_too_high")
    if leaks:
        warnings.append("single_feature_leak")
    result = PropensityResult(
        target=target, target_source=target_source, positive_rate=float(np.mean(y)), n_train=len(final_rows),
        n_search=len(y_search), n_holdout=len(x_hold), n_total=len(x), features=tuple(features),
        excluded_features=tuple(dropped), candidates=tuple(candidates), best=best_name, holdout=holdout,
        importance=tuple(importance), gains=_gains(y_hold, p_hold), leak_features=leaks, leak_reference_auc=rest_auc,
        configured_exclusions=tuple(c for c in train.columns if c in exclude and c != "id"),
        warnings=tuple(warnings), search_seconds=search_seconds, imputation=None, action_segment=None,
        target_list=None)
    # Every labelled customer's honest probability: out-of-fold where the final model learned from them,
    # the final model's where it did not (the holdout, and rows outside the searched sample for KNN/SVC).
    labelled = model.predict_proba(x)[:, 1]
    labelled[fit_rows] = oof
    return FittedModel(result, model, labelled, y_fit, oof, y_hold, p_hold)
