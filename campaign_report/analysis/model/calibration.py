"""Honest probabilities and what a cut-off is worth: Platt scaling on out-of-fold scores, the reliability
curve, the expected calibration error, and precision / recall at a cut-off.

Platt's sigmoid is fitted on scores the model gave to customers it had not learned from (out-of-fold),
then applied to the model refitted on all training customers: sklearn's
`CalibratedClassifierCV(method="sigmoid", ensemble=False)`, but fed with the out-of-fold scores the
choice of model already computed, so calibration costs no extra fits. The map is monotone: the ranking
and the ROC-AUC stay the model's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from campaign_report.analysis.model.search import raw_score


class PlattCalibrated(ClassifierMixin, BaseEstimator):
    """A fitted model whose ranking score goes through a fitted sigmoid; predict_proba as usual."""

    def __init__(self, model, sigmoid: LogisticRegression) -> None:
        self.model = model
        self.sigmoid = sigmoid

    @property
    def classes_(self) -> np.ndarray:
        return np.array([False, True])

    def fit(self, x, y):  # noqa: D102 - both parts arrive fitted; present for the estimator protocol only
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict_proba(self, x) -> np.ndarray:
        positive = self.sigmoid.predict_proba(raw_score(self.model, x).reshape(-1, 1))[:, 1]
        return np.column_stack([1 - positive, positive])

    def predict(self, x) -> np.ndarray:
        return self.predict_proba(x)[:, 1] >= 0.5


def platt_sigmoid(oof_score: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """The sigmoid mapping out-of-fold scores to probabilities (practically unregularised, as Platt's)."""
    return LogisticRegression(C=1e6).fit(oof_score.reshape(-1, 1), y)


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> tuple[tuple[float, float, int], ...]:
    """(mean predicted, observed rate, n) per equal-count bin of the predictions."""
    order = np.argsort(p)
    return tuple((float(p[idx].mean()), float(y[idx].mean()), len(idx))
                 for idx in np.array_split(order, bins) if len(idx))


def calibration_error(bins: tuple[tuple[float, float, int], ...]) -> float:
    """Expected calibration error: Σ n_b/N·|mean predicted − observed|."""
    total = sum(n for _, _, n in bins)
    return float(sum(n * abs(predicted - observed) for predicted, observed, n in bins) / total) if total else math.nan


def cutoff_quality(y: np.ndarray, p: np.ndarray, cutoff: float) -> dict[str, Any]:
    """Share listed, precision and recall when everyone scored at or above `cutoff` is listed."""
    flagged = p >= cutoff
    return dict(cutoff=cutoff, cutoff_share=float(flagged.mean()),
                cutoff_precision=float(y[flagged].mean()) if flagged.any() else math.nan,
                cutoff_recall=float(y[flagged].sum() / max(y.sum(), 1)))
