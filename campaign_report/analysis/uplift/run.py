"""The uplift stage: pre-campaign features of the experiment's customers, one uplift model per treatment
arm, and the uplift-ranked list of the customers in scope.

Leakage: the model learns from what was known when the campaign started. Purchase features are
aggregated from lines dated before the campaign's start (as the experiment's segment cuts are), and the
customer columns computed afterwards (the propensity label, profit) are left out. The list then scores
each customer on today's features, as the next campaign would.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.model_selection import cross_val_predict
from threadpoolctl import threadpool_limits

from campaign_report.analysis.config import Config
from campaign_report.analysis.data.features import build_customer_features
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.experiment.result import ExperimentResult
from campaign_report.analysis.model.targeting import score_population
from campaign_report.analysis.uplift.arm import ArmData, Economics, analyze_arm
from campaign_report.analysis.uplift.learners import UpliftLearner, boosting
from campaign_report.analysis.uplift.result import UpliftArm, UpliftListSummary, UpliftResult

# Known only after the campaign (the label, profit over the whole history) or not a customer trait.
NOT_FEATURES = {"id", "label", "profit", "gender_imputed"}
MAX_LEVELS = 12
OUTCOME_OF = {"conversion": "conversion", "arpu": "revenue", "average_check": "revenue",
              "orders_per_customer": "orders"}
COLUMN_OF = {"conversion": "converted", "revenue": "revenue", "orders": "orders"}
# The A/B readout's metric that measures the same outcome per customer (its effect anchors "contact everyone").
METRIC_OF = {"conversion": "conversion", "revenue": "arpu", "orders": "orders_per_customer"}


@dataclass(frozen=True)
class Encoding:
    """How customer columns become model inputs, learned once on the training rows and applied to any rows
    (the list's customers, scored in batches): numbers with their median for missing values, text one-hot over
    its most frequent values; columns without variation in training left out."""

    numbers: dict[str, float]
    levels: dict[str, tuple[str, ...]]
    columns: tuple[str, ...]

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        out = {}
        for col, median in self.numbers.items():
            out[col] = frame[col].astype(float).fillna(median).to_numpy()
        for col, levels in self.levels.items():
            text = frame[col].astype("string").fillna("—")
            for level in levels:
                out[f"{col}={level}"] = (text == level).to_numpy(dtype=float)
        return np.column_stack([out[c] for c in self.columns]) if self.columns else np.zeros((len(frame), 0))


def learn_encoding(frame: pd.DataFrame) -> Encoding:
    """The Encoding of these (training) rows."""
    numbers, levels = {}, {}
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            known = values.astype(float)
            numbers[col] = float(known.median()) if known.notna().any() else 0.0
        else:
            levels[col] = tuple(str(v) for v in values.astype("string").fillna("—").value_counts().index[:MAX_LEVELS])
    draft = Encoding(numbers, levels, tuple([*numbers, *(f"{c}={v}" for c, vs in levels.items() for v in vs)]))
    x = draft.apply(frame)
    varies = x.std(axis=0) > 0 if len(x) else np.zeros(x.shape[1], dtype=bool)
    return dataclasses.replace(draft, columns=tuple(c for c, keep in zip(draft.columns, varies, strict=True) if keep))


def encode(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as they are (missing: the median), text one-hot over its most frequent values."""
    encoding = learn_encoding(frame)
    return pd.DataFrame(encoding.apply(frame), columns=list(encoding.columns), index=frame.index)


def _pre_campaign(engine: Engine, ids: pd.Series, start: date) -> pd.DataFrame | None:
    engine.view("tx_uplift_pre", f"SELECT * FROM tx WHERE date < DATE '{start:%Y-%m-%d}'")
    if engine.scalar("SELECT count(*) FROM tx_uplift_pre") == 0:
        return None
    return build_customer_features(engine, ids, table="tx_uplift_pre", as_of=pd.Timestamp(start)).frame


def _in_scope(engine: Engine, table: pd.DataFrame, score_filter: str | None) -> np.ndarray:
    if score_filter:
        engine.register("uplift_base", table)
    return score_population(engine, "uplift_base", table, score_filter, section="uplift")


def _control_buyers(x: np.ndarray, treated: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """P(buy without contact): fitted on the control group (out of fold there), applied to the treated."""
    bought = (y > 0).astype(int)
    control = ~treated
    model = boosting(True, seed)
    out = np.zeros(len(y))
    if bought[control].min() == bought[control].max():
        return out
    out[control] = cross_val_predict(model, x[control], bought[control], cv=4, method="predict_proba")[:, 1]
    out[treated] = model.fit(x[control], bought[control]).predict_proba(x[treated])[:, 1]
    return out


SCORE_BATCH = 100_000  # customers scored at once: the list's memory stays flat at any size


def stratified_sample(groups: np.ndarray, outcome: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Row indices of at most `cap` rows keeping each (group, outcome above zero or not) stratum's share: the
    learners see the test's split and outcome rate, and every stratum keeps at least one row."""
    n = len(outcome)
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    strata = pd.factorize(np.asarray(groups))[0] * 2 + (np.asarray(outcome, dtype=float) > 0).astype(int)
    keep = []
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        take = max(1, int(round(len(rows) * cap / n)))
        keep.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(keep))


def _score_in_batches(learners: dict[str, UpliftLearner], encoding: Encoding, scope: pd.DataFrame
                      ) -> dict[str, np.ndarray]:
    """Every arm's predicted uplift for the customers in scope, SCORE_BATCH rows encoded at a time."""
    parts: dict[str, list[np.ndarray]] = {arm: [] for arm in learners}
    for start in range(0, len(scope), SCORE_BATCH):
        x = encoding.apply(scope.iloc[start:start + SCORE_BATCH])
        for arm, learner in learners.items():
            parts[arm].append(learner.predict(x))
    return {arm: np.concatenate(p) if p else np.zeros(0) for arm, p in parts.items()}


MIN_EACH_WAY = 20  # customers with and without the outcome, per group: below this no learner has two classes


def _enough_to_learn(treated: np.ndarray, y: np.ndarray) -> bool:
    """Both groups hold customers with and without the outcome (a window with no purchases has none)."""
    return all(min(int((y[group] > 0).sum()), int((y[group] <= 0).sum())) >= MIN_EACH_WAY
               for group in (treated, ~treated))


def run_uplift(config: Config, engine: Engine, experiment: ExperimentResult, table: pd.DataFrame,
               customers: pd.DataFrame | None, has_tx: bool, propensity: np.ndarray | None,
               ) -> tuple[UpliftResult | None, pd.DataFrame | None, str]:
    """Uplift per arm and the list, or (None, None, why not): "uplift_no_traits" when the customers have no
    trait known before the campaign (an id list), "uplift_too_few" when no arm's groups both hold customers
    with and without the outcome.
    """
    settings = config.uplift
    t0 = time.perf_counter()
    if has_tx:
        # The report's propensity scores use today's features, which include the campaign's own purchases
        # (its non-buyers look "slipping away"): ranking the test by them would be circular. The comparison
        # then uses the usual "likely buyers" list, learned from the control group before the campaign.
        propensity = None
    units = engine.frame("SELECT customer_id, grp, converted, revenue, orders FROM exp_units ORDER BY customer_id")
    units["customer_id"] = units["customer_id"].astype(str)
    outcome = settings.outcome or OUTCOME_OF[experiment.primary]
    if outcome == "revenue" and not (units["revenue"] > 0).any():
        outcome = "conversion"  # no money in the data: who converts because of the campaign
    start = pd.Timestamp(experiment.start).date() if experiment.start else None
    # Learn from a sample when the test is large: stratified by group and outcome, at most max_customers for
    # each comparison of an arm with control, drawn before any feature is built (memory stays flat at any size).
    groups = units["grp"].nunique()
    bought = (units[COLUMN_OF[outcome]] > 0).to_numpy()
    learned = stratified_sample(units["grp"].to_numpy(), bought, settings.max_customers * groups // 2, settings.seed)
    experiment_sizes = units["grp"].value_counts()
    if len(learned) < len(units):
        units = units.iloc[learned].reset_index(drop=True)
    train = units[["customer_id"]].rename(columns={"customer_id": "id"})
    if customers is not None:
        keep = [c for c in customers.columns if c not in NOT_FEATURES - {"id"}]
        train = train.merge(customers[keep].assign(id=customers["id"].astype(str)), on="id", how="left")
    pre = _pre_campaign(engine, train["id"], start) if has_tx and start else None
    if pre is not None:
        train = train.merge(pre.assign(id=pre["id"].astype(str)), on="id", how="left")
    scope_mask = _in_scope(engine, table, settings.score_filter)
    columns = [c for c in train.columns if c not in NOT_FEATURES and c in table.columns]
    encoding = learn_encoding(train[columns]) if columns else None
    if encoding is None or not encoding.columns:
        return None, None, "uplift_no_traits"
    x_all = encoding.apply(train[columns])
    y_all = units[COLUMN_OF[outcome]].to_numpy(dtype=float)
    prop_by_id = pd.Series(propensity, index=table["id"].astype(str).to_numpy()) if propensity is not None else None
    arms: list[UpliftArm] = []
    learners: dict[str, UpliftLearner] = {}
    with threadpool_limits(1):  # many small fits: threads only contend (measured 10x slower on 2 cores)
        for treatment in [g.name for g in experiment.groups if g.name != experiment.control]:
            rows = units["grp"].isin([experiment.control, treatment]).to_numpy()
            treated = (units["grp"] == treatment).to_numpy()[rows]
            x, y = x_all[rows], y_all[rows]
            arm_ids = units["customer_id"][rows]
            # The economics below are per customer: a stratified sample estimates them without bias.
            in_test = int(experiment_sizes.get(experiment.control, 0) + experiment_sizes.get(treatment, 0))
            sampled = len(y) < in_test
            if not _enough_to_learn(treated, y):
                continue
            if prop_by_id is not None:
                score = prop_by_id.reindex(arm_ids).fillna(-1.0).to_numpy()
                basis = "propensity_model"
            else:
                score, basis = _control_buyers(x, treated, y, settings.seed), "control_buyers"
            arm_buyers = y[treated] > 0
            value = settings.value_per_conversion
            if outcome == "conversion" and value is None:
                revenue = units["revenue"].to_numpy(dtype=float)[rows][treated]
                value = float(revenue[arm_buyers].mean()) if arm_buyers.any() and revenue.sum() > 0 else 0.0
            elif outcome == "orders":
                revenue = units["revenue"].to_numpy(dtype=float)[rows][treated]
                value = float(revenue.sum() / max(y[treated].sum(), 1))
            econ = Economics(population=int(scope_mask.sum()), value_per_unit=1.0 if outcome == "revenue" else
                             float(value or 0.0), cost_per_contact=settings.cost_per_contact,
                             margin=config.margin if config.margin is not None else 1.0,
                             value_per_conversion=value if outcome == "conversion" else None,
                             margin_stated=config.margin is not None)
            data = ArmData(treatment, outcome, x, treated, y, encoding.columns, score, basis,
                           measured=_measured(experiment, treatment, outcome))
            arm, learner = analyze_arm(data, settings, experiment.confidence, econ)
            if sampled:
                arm = dataclasses.replace(arm, learned_from=in_test)
            arms.append(arm)
            learners[treatment] = learner
        if not arms:
            return None, None, "uplift_too_few"
        scope = table[scope_mask]
        predictions = _score_in_batches(learners, encoding, scope[columns])
    scope_ids = table["id"].astype(str)[scope_mask].to_numpy()
    lead = max(arms, key=lambda a: a.decision.profit)
    frame = uplift_list(scope_ids, predictions, lead)
    summary = UpliftListSummary(path="uplift_list.csv", size=len(frame),
                                contact=int(frame["reason"].str.startswith("contact").sum()),
                                score_filter=settings.score_filter, score_filter_name=settings.score_filter_name)
    fields = {f.name: getattr(lead, f.name) for f in dataclasses.fields(UpliftArm)}
    result = UpliftResult(**fields, arms=tuple(arms), list=summary, fit_seconds=time.perf_counter() - t0)
    return result, frame, ""


def _measured(experiment: ExperimentResult, treatment: str, outcome: str) -> tuple[float, float, float] | None:
    """The readout's effect per customer on the outcome, with its interval, when the readout measured it."""
    metric = next((m for m in experiment.metrics if m.treatment == treatment and m.metric == METRIC_OF[outcome]),
                  None)
    if metric is None or not all(np.isfinite([metric.abs_diff, metric.ci_low, metric.ci_high])):
        return None
    return metric.abs_diff, metric.ci_low, metric.ci_high


def uplift_list(ids: np.ndarray, predictions: dict[str, np.ndarray], lead: UpliftArm) -> pd.DataFrame:
    """Customers by predicted uplift (each with the arm that moves them most), decile and reason code."""
    names = list(predictions)
    stacked = np.column_stack([predictions[a] for a in names])
    best = stacked.argmax(axis=1)
    uplift = stacked[np.arange(len(ids)), best]
    frame = pd.DataFrame({"customer_id": ids, "predicted_uplift": np.round(uplift, 6),
                          "arm": np.array(names, dtype=object)[best]})
    frame = frame.sort_values("predicted_uplift", ascending=False, kind="stable").reset_index(drop=True)
    n = len(frame)
    frame["decile"] = (np.arange(n) * 10 // max(n, 1) + 1).astype(int)
    d = lead.decision
    pct = int(round(d.contact_share * 100))
    if d.rule == "top_share":
        contact = np.arange(n) < d.contacts
        reason = np.where(contact, f"contact:top_{pct}pct_uplift", f"skip:outside_top_{pct}pct")
    elif d.rule == "everyone":
        reason = np.full(n, "contact:everyone_no_subgroup_differs" if not lead.heterogeneous else
                         "contact:everyone_pays")
    elif d.rule == "unproven":
        reason = np.full(n, "hold:profit_not_proven_by_the_test")
    else:
        reason = np.full(n, "skip:effect_below_cost")
    frame["reason"] = reason
    return frame[["customer_id", "predicted_uplift", "decile", "arm", "reason"]]
