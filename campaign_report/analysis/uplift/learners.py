"""Uplift learners over scikit-learn models, and their cross-fitted (out-of-fold) predictions.

- t_linear: two models (logistic regression, or ridge for money), one per group; uplift = difference.
  The plain baseline an analyst would write first.
- t_spline: the same on spline-expanded features (each feature's effect may bend: an additive model).
- t_boosting: the same with histogram gradient boosting (non-linear, interactions).
- x_learner: Künzel et al. (2019): the boosting T-models impute each customer's effect (a treated
  customer's outcome minus the control model's prediction, and vice versa), a second pair of boosting
  regressors learns those effects, combined by the treated share.
- transformed_outcome: one boosting regressor on y·(w − p)/(p(1 − p)), whose expectation is the uplift
  (for a 0/1 outcome and p = ½ this is the class transformation of Jaskowski & Jaroszewicz).
- ensemble: the average of all of the above, a candidate of its own when two or more are configured (each
  learner's errors are partly its own, so the average ranks more steadily than any one of them).
Money outcomes are capped at their 99.5th percentile for fitting only, so that a handful of very large
orders does not steer the models; the curves are always measured on the outcome as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, SplineTransformer, StandardScaler

CANDIDATES = ("t_linear", "t_spline", "t_boosting", "x_learner", "transformed_outcome")
ENSEMBLE = "ensemble"
SIMPLICITY = {name: i for i, name in enumerate((*CANDIDATES, ENSEMBLE))}  # ties go to the simpler learner


def _linear(binary: bool):
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)) if binary else \
        make_pipeline(StandardScaler(), Ridge(alpha=1.0))


def _spline(binary: bool, x: np.ndarray):
    # Splines only where a trait takes more than two values (0/1 columns stay linear); quantiles first, so
    # that the knots sit where the customers are and a skewed spend does not crowd them at the bottom.
    graded = [j for j in range(x.shape[1]) if len(np.unique(x[:2000, j])) > 2]
    flat = [j for j in range(x.shape[1]) if j not in graded]
    head = ColumnTransformer([("graded", make_pipeline(QuantileTransformer(n_quantiles=200),
                                                       SplineTransformer(n_knots=4, degree=2)), graded),
                              ("flat", StandardScaler(), flat)])
    return make_pipeline(head, LogisticRegression(C=0.3, max_iter=2000)) if binary else \
        make_pipeline(head, Ridge(alpha=3.0))


def boosting(binary: bool, seed: int, counts: bool = False):
    """Histogram gradient boosting, tuned for the small differences uplift lives on; `counts`: a
    non-negative outcome (money, orders) fitted with Poisson deviance, so that effects may multiply."""
    # Shallow, slow-learning trees with large leaves: uplift is a small difference of two noisy models,
    # and over-fitted base models turn their noise into spurious heterogeneity.
    # Early stopping on a held-out tenth always (scikit-learn switches it on only above 10,000 rows, so the
    # same learner would behave differently in a cross-fitting fold and on the whole arm).
    params = {"max_iter": 150, "learning_rate": 0.075, "max_leaf_nodes": 12, "min_samples_leaf": 200,
              "l2_regularization": 1.0, "early_stopping": True, "validation_fraction": 0.1,
              "n_iter_no_change": 10, "random_state": seed}
    if binary:
        return HistGradientBoostingClassifier(**params)
    return HistGradientBoostingRegressor(loss="poisson" if counts else "squared_error", **params)


def _predict(model, x: np.ndarray, binary: bool) -> np.ndarray:
    return model.predict_proba(x)[:, 1] if binary else model.predict(x)


@dataclass
class UpliftLearner:
    """A fitted learner: `predict(x)` is each customer's expected outcome if treated minus if not."""

    kind: str
    binary: bool
    seed: int = 0
    models: dict[str, object] = field(default_factory=dict)
    treated_share: float = 0.5
    members: tuple[str, ...] = ()  # the ensemble's learners

    def fit(self, x: np.ndarray, treated: np.ndarray, y: np.ndarray,
            stage_one: UpliftLearner | None = None) -> UpliftLearner:
        """Fit on the customers given; an X-learner may reuse a boosting T-learner fitted on the same rows."""
        y = y.astype(float)
        if not self.binary:
            y = np.minimum(y, np.quantile(y, 0.995))
        t = treated.astype(bool)
        self.treated_share = float(t.mean())
        if self.kind == ENSEMBLE:
            for kind in sorted(self.members, key=lambda k: k == "x_learner"):
                self.models[kind] = UpliftLearner(kind, self.binary, self.seed).fit(
                    x, treated, y, stage_one=self.models.get("t_boosting"))  # type: ignore[arg-type]
            return self
        if self.kind == "transformed_outcome":
            p = self.treated_share
            z = y * (t - p) / (p * (1 - p))
            self.models["z"] = boosting(False, self.seed).fit(x, z)
            return self
        make = {"t_linear": lambda: _linear(self.binary), "t_spline": lambda: _spline(self.binary, x)}.get(
            self.kind, lambda: boosting(self.binary, self.seed, counts=bool((y >= 0).all())))
        if stage_one is not None and stage_one.kind == "t_boosting":
            m0, m1 = stage_one.models["m0"], stage_one.models["m1"]
        else:
            m0, m1 = make().fit(x[~t], y[~t]), make().fit(x[t], y[t])
        self.models.update(m0=m0, m1=m1)
        if self.kind == "x_learner":
            d1 = y[t] - _predict(m0, x[t], self.binary)
            d0 = _predict(m1, x[~t], self.binary) - y[~t]
            self.models["r1"] = boosting(False, self.seed).fit(x[t], d1)
            self.models["r0"] = boosting(False, self.seed).fit(x[~t], d0)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Each customer's predicted uplift."""
        if self.kind == ENSEMBLE:
            return np.mean([m.predict(x) for m in self.models.values()], axis=0)  # type: ignore[attr-defined]
        if self.kind == "transformed_outcome":
            return self.models["z"].predict(x)  # type: ignore[attr-defined]
        if self.kind == "x_learner":
            p = self.treated_share
            # The effect model fitted on the larger group gets the larger weight (Künzel et al.'s g = p).
            return p * self.models["r0"].predict(x) + (1 - p) * self.models["r1"].predict(x)  # type: ignore[attr-defined]
        return _predict(self.models["m1"], x, self.binary) - _predict(self.models["m0"], x, self.binary)


def cross_fitted(kinds: tuple[str, ...], x: np.ndarray, treated: np.ndarray, y: np.ndarray, binary: bool,
                 folds: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Out-of-fold uplift predictions of every learner (each customer scored by models that never saw
    them), folds stratified by group and outcome; and each learner's total fitting time in seconds."""
    strata = treated.astype(int) * 2 + (y > 0).astype(int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = {k: np.zeros(len(y)) for k in kinds}
    seconds = dict.fromkeys(kinds, 0.0)
    for train, test in splitter.split(x, strata):
        fitted: dict[str, UpliftLearner] = {}
        # The X-learner's first stage is the boosting T-learner: fitted once per fold when both compete.
        for kind in sorted(kinds, key=lambda k: k == "x_learner"):
            t0 = time.perf_counter()
            learner = UpliftLearner(kind, binary, seed).fit(x[train], treated[train], y[train],
                                                            stage_one=fitted.get("t_boosting"))
            fitted[kind] = learner
            out[kind][test] = learner.predict(x[test])
            seconds[kind] += time.perf_counter() - t0
    if len(kinds) > 1:  # still out of fold: each member's prediction is
        out[ENSEMBLE] = np.mean([out[k] for k in kinds], axis=0)
        seconds[ENSEMBLE] = sum(seconds.values())
    return out, seconds
