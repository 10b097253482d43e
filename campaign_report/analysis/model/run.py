"""The model stage: gender recovered where missing, the propensity / activity-decline model fitted on a
stratified sample and scored for every customer by the engine, and the target list assembled."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from campaign_report.analysis.config import Config
from campaign_report.analysis.data.clean import TableQuality
from campaign_report.analysis.data.features import CustomerFeatures, build_customer_features
from campaign_report.analysis.engines.base import Engine, ProbabilityScorer
from campaign_report.analysis.errors import ConfigError, InputError
from campaign_report.analysis.meaning import DataMeaning
from campaign_report.analysis.model.calibration import cutoff_quality
from campaign_report.analysis.model.cutoff import Cutoff, inside_cutoff, parse_cutoff, precision_threshold
from campaign_report.analysis.model.impute import impute_attribute
from campaign_report.analysis.model.propensity import (
    FittedModel,
    Imputation,
    KnownOutcomes,
    PropensityResult,
    TargetListSummary,
    fit_propensity,
    outcome_stratified_sample,
    select_features,
)
from campaign_report.analysis.model.screening import screen_model_rows
from campaign_report.analysis.model.targeting import model_table, target_list
from campaign_report.analysis.offers.recommend import OffersResult


def impute_gender(config: Config, customers: pd.DataFrame, features: CustomerFeatures | None,
                  ) -> tuple[pd.DataFrame, Imputation | None]:
    """Missing gender filled by a classifier on behaviour (and age); `gender_imputed` marks the guesses."""
    if config.propensity is None or "gender" not in config.propensity.impute or "gender" not in customers:
        return customers, None
    base = features.frame if features is not None else customers.drop(columns=["gender"])
    numeric = [c for c in base.columns if c not in ("id", "label", "age")
               and pd.api.types.is_numeric_dtype(base[c])]
    joined = customers[["id", "gender"]].merge(base[["id", *numeric]], on="id", how="left")
    if "age" in customers:
        joined["age"] = customers["age"].fillna(customers["age"].median()).to_numpy()
        numeric.append("age")
    recovered = impute_attribute(joined.fillna({c: 0.0 for c in numeric}), "gender", numeric,
                                 config.propensity.seed, config.engine.sample_size)
    if recovered is None:
        return customers, None
    filled, was_missing, imputation = recovered
    return customers.assign(gender=filled.to_numpy(), gender_imputed=was_missing.to_numpy()), imputation


def _scores(engine: Engine, table: pd.DataFrame, model, columns: tuple[str, ...]) -> np.ndarray:
    """Probabilities for every row of the model table, computed by the engine in batches."""
    scored = engine.score("SELECT * FROM model_base", "id", ProbabilityScorer(model, columns))
    by_id = pd.Series(scored["score"].to_numpy(dtype=float), index=scored["id"].astype(str).to_numpy())
    return by_id.reindex(table["id"].astype(str).to_numpy()).to_numpy()


def list_cutoff(config: Config) -> Cutoff:
    """The configured cut-off; an older config's `threshold` reads as "probability <threshold>"."""
    assert config.propensity is not None
    settings = config.propensity
    return parse_cutoff(settings.cutoff if settings.cutoff is not None else f"probability {settings.threshold}")


def _screened(config: Config, frame: pd.DataFrame, y: np.ndarray, exclude: set[str],
              ) -> tuple[pd.DataFrame, np.ndarray, TableQuality]:
    """Outliers and zero-activity rows flagged (and dropped from fitting when the config says so)."""
    assert config.propensity is not None
    numeric, _, _ = select_features(frame, exclude)
    flagged, quality = screen_model_rows(frame, numeric, config.propensity.drop_outliers)
    if config.propensity.drop_outliers and flagged.any():
        frame, y = frame[~flagged], y[~flagged]
    frame.index = pd.RangeIndex(len(frame))  # renumbered in place: reset_index would copy the table
    return frame, y, quality


def _features_before(engine: Engine, before: str, table: pd.DataFrame, customers: pd.DataFrame | None,
                     ) -> pd.DataFrame:
    """The model table as it was on `before` (behaviour from purchases before that day), row for row as `table`:
    a label about what happened from that day on is learned from what was known then."""
    cut = pd.Timestamp(before)
    engine.view("tx_label_before", f"SELECT * FROM tx WHERE date < DATE '{cut:%Y-%m-%d}'")
    if engine.scalar("SELECT count(*) FROM tx_label_before") == 0:
        raise ConfigError(f"[propensity] features_before = {before!r}: no purchase is dated before it")
    past = build_customer_features(engine, table["id"].astype(str), table="tx_label_before", as_of=cut)
    frame = model_table(past, customers)
    return frame.set_index(frame["id"].astype(str)).reindex(table["id"].astype(str)).reset_index(drop=True)


def _judge_cutoff(config: Config, fitted: FittedModel, probability: np.ndarray, selected: np.ndarray,
                  ) -> PropensityResult:
    """The list's cut-off turned into a probability, and what it is worth on the holdout."""
    cutoff = list_cutoff(config)
    score_threshold, reached = None, True
    if cutoff.kind == "precision":
        score_threshold, reached = precision_threshold(fitted.y_oof, fitted.p_oof, cutoff.value)
    _, probability_cut = inside_cutoff(probability[selected], cutoff, score_threshold)
    result = fitted.result
    holdout = dataclasses.replace(result.holdout, cutoff_rule=cutoff.rule, cutoff_reached=reached,
                                  **cutoff_quality(fitted.y_hold, fitted.p_hold, probability_cut))
    warnings = result.warnings + (() if reached else ("cutoff_precision_unreachable",))
    return dataclasses.replace(result, holdout=holdout, warnings=warnings)


def run_propensity(config: Config, engine: Engine, table: pd.DataFrame, customers: pd.DataFrame | None,
                   features: CustomerFeatures | None, selected: np.ndarray,
                   ) -> tuple[PropensityResult, np.ndarray, TableQuality]:
    """Fit on the label (or on a derived 'no purchase in the horizon' target) and score everyone.

    Returns the result, every customer's probability and the model table's data-quality findings.
    `table` must be registered in the engine as `model_base`.
    """
    settings = config.propensity
    assert settings is not None
    sample_size = config.engine.sample_size
    source = config.tables.get("customers")
    exclude = {"id", "profit", "gender_imputed", *settings.exclude}
    if customers is not None and source is not None and "label" in customers and customers["label"].notna().any():
        positive = source.option("positive")
        labels = customers.set_index("id")["label"].reindex(table["id"])
        values = sorted(labels.dropna().unique().astype(str))
        if positive is None:
            raise ConfigError("[data.customers] needs 'positive' (the label value that counts)")
        if positive not in values:
            raise InputError(source.path.name if source.path else "customers", "label value not found "
                             f"(values: {', '.join(values[:5])})", column=source.column("label"), value=positive)
        known = labels.notna().to_numpy()
        y = (labels[known].astype(str) == positive).to_numpy()
        fit_table = _features_before(engine, settings.features_before, table, customers) \
            if settings.features_before else table
        rows = known
        if settings.score_filter and (known & ~selected).sum() >= 200:
            # Score the chosen population out of sample: it is left out of fitting.
            rows = known & ~selected
            y = y[~selected[known]]
        train = fit_table[rows]  # one copy of the rows learned from (a million customers: ~0.5 GB each)
        train, y, quality = _screened(config, train, y, exclude)
        population = len(train)
        train, y = outcome_stratified_sample(train, y, sample_size, settings.seed)
        fitted = fit_propensity(train, y, settings, target=f"{source.column('label')} = {positive}",
                                target_source="label", exclude=exclude)
        probability = pd.Series(_scores(engine, table, fitted.model, fitted.result.features),
                                index=table["id"].to_numpy())
        if not settings.features_before:
            # The customers the model learned from get out-of-fold scores: in-sample ones are optimistic. (With
            # features_before the model learned from the past and everyone is scored on today's features.)
            probability[train["id"].to_numpy()] = fitted.labelled_probability
        result = dataclasses.replace(_judge_cutoff(config, fitted, probability.to_numpy(), selected),
                                     n_population=population, features_before=settings.features_before)
        return result, probability.to_numpy(), quality
    # Derived target: no purchase in the last `horizon_days`, from features computed before that.
    if features is None:
        raise ConfigError("[propensity] without a label column needs [data.transactions]")
    cutoff = pd.Timestamp(features.as_of) - pd.Timedelta(days=settings.horizon_days)
    engine.view("tx_before", f"SELECT * FROM tx WHERE date < DATE '{cutoff:%Y-%m-%d}'")
    buyers = engine.frame("SELECT DISTINCT customer_id FROM tx_before ORDER BY customer_id")["customer_id"]
    if len(buyers) < 200:
        raise ConfigError("[propensity] too little history before the horizon to derive a target")
    past = build_customer_features(engine, buyers, table="tx_before", as_of=cutoff)
    past_table = model_table(past, customers[customers["id"].isin(buyers)] if customers is not None else None)
    active = {r[0] for r in engine.rows(f"SELECT DISTINCT customer_id FROM tx WHERE date >= DATE '{cutoff:%Y-%m-%d}'")}
    y = (~past_table["id"].isin(active)).to_numpy()
    past_table, y, quality = _screened(config, past_table, y, exclude)
    population = len(past_table)
    past_table, y = outcome_stratified_sample(past_table, y, sample_size, settings.seed)
    fitted = fit_propensity(past_table, y, settings, target=f"no_purchase_{settings.horizon_days}d",
                            target_source="derived", exclude=exclude)
    # Scores use the features as of today: the probability of no purchase in the next horizon.
    probability = _scores(engine, table, fitted.model, fitted.result.features)
    result = dataclasses.replace(_judge_cutoff(config, fitted, probability, selected), n_population=population)
    return result, probability, quality


def list_membership(config: Config, probability: np.ndarray, selected: np.ndarray, probability_cut: float,
                    ) -> np.ndarray:
    """Who is on the target list, per row of the model table: the one definition the list, the segment to act
    on and every count in the documents use. The first N (or X %) of the scored population by probability, or
    everyone at or above the probability the cut-off resolved to, on probabilities as the list prints them."""
    shown = np.round(probability[selected], 4)
    cutoff = list_cutoff(config)
    if cutoff.kind in ("top_n", "top_share") or not math.isfinite(probability_cut):
        inside, _ = inside_cutoff(shown, cutoff, probability_cut)
    else:
        inside = shown >= round(probability_cut, 4)
    on_list = np.zeros(len(probability), dtype=bool)
    on_list[np.flatnonzero(selected)[inside]] = True
    return on_list


def assemble_target_list(config: Config, table: pd.DataFrame, probability: np.ndarray, selected: np.ndarray,
                         on_list: np.ndarray, action_mask: np.ndarray | None, clusters: pd.Series | None,
                         cluster_names: dict[int, str], offers: OffersResult | None,
                         probability_cut: float = math.nan) -> tuple[pd.DataFrame, TargetListSummary]:
    """The scored population with each customer's offer, and the summary the documents quote.

    `within_cutoff` marks who is on the list (`on_list`, from list_membership)."""
    assert config.propensity is not None
    segment_offers = {(s.kind, s.key): s for s in offers.segments} if offers is not None else {}
    full_list = target_list(table, probability, selected, on_list, action_mask, clusters, cluster_names,
                            segment_offers, config.report.language)
    cutoff = list_cutoff(config)
    within = full_list["within_cutoff"].to_numpy()
    if cutoff.kind in ("top_n", "top_share") or not math.isfinite(probability_cut):
        # A capacity's probability: the lowest one on the list.
        probability_cut = float(full_list["probability"][within].min()) if within.any() else math.inf
    summary = TargetListSummary(
        path="target_list.csv", size=len(full_list), above_threshold=int(full_list["within_cutoff"].sum()),
        threshold=probability_cut, score_filter=config.propensity.score_filter,
        score_filter_name=config.propensity.score_filter_name,
        top=tuple((str(r.customer_id), float(r.probability)) for r in full_list.head(5).itertuples()),
        cutoff_rule=cutoff.rule, cutoff_kind=cutoff.kind, cutoff_value=cutoff.value,
        no_consent=int((within & ~full_list["may_message"].to_numpy(dtype=bool)).sum())
        if "may_message" in full_list else None)
    return full_list, summary


def known_outcomes(meaning: DataMeaning, customers: pd.DataFrame | None, table: pd.DataFrame, selected: np.ndarray,
                   on_list: np.ndarray) -> KnownOutcomes | None:
    """How the list meets the recorded label (a label column only: a derived lapse is not recorded for today)."""
    label = meaning.label
    if label is None or label.source != "label" or customers is None or "label" not in customers:
        return None
    recorded = customers.drop_duplicates("id").set_index("id")["label"].reindex(table["id"])[selected]
    known = recorded.notna().to_numpy()
    listed = on_list[selected]
    if not (known & listed).any():
        return None
    positive = (recorded.astype("string") == label.positive).fillna(False).to_numpy(dtype=bool)
    return KnownOutcomes(on_list=int((known & listed).sum()), positive_on_list=int((positive & listed).sum()),
                         positive_off_list=int((positive & ~listed).sum()))
