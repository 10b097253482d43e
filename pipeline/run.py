"""One run: config -> load -> validate -> features -> analyses -> Results -> documents, published atomically.

The only module that touches both analysis/ and renderers/. Documents are written to a staging folder
inside output_dir and moved to its top level only when every stage succeeded; the previous good run
is kept under history/.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.clean import QualityIssue, TableQuality, clean_customers, clean_experiment, clean_transactions
from analysis.config import Config, load_config
from analysis.engine import Engine, ProbabilityScorer, open_engine
from analysis.errors import ConfigError, InputError
from analysis.experiment import ObservationalEffect, SegmentEffect, analyze_experiment, pick_control
from analysis.experiment_sums import experiment_sums, segment_labels
from analysis.features import CustomerFeatures, build_customer_features, experiment_outcomes
from analysis.load import InputFile, load_raw, new_workdir
from analysis.observational import daily_series, estimate_promo_days
from analysis.offers import (
    OffersResult,
    SegmentOffers,
    co_purchase_pairs,
    recommend,
    segment_evidence,
)
from analysis.propensity import (
    PropensityResult,
    TargetListSummary,
    fit_propensity,
    impute_attribute,
    out_of_fold_probability,
    outcome_stratified_sample,
)
from analysis.results import Meta, Results
from analysis.rfm import analyze_rfm
from analysis.segments import ClusterModel, analyze_segments, assign_clusters
from analysis.targeting import action_segment, model_table, score_population, target_list
from pipeline.ledger import Ledger, inputs_key

OUTPUT_FILES = ("results.json", "brief.pdf", "deck.pptx", "target_list.csv", "email.json")
Progress = Callable[[str], None]


@dataclass
class RunOutcome:
    results: Results
    output_dir: Path
    files: dict[str, Path]
    stage_seconds: dict[str, float]


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: Progress | None) -> Iterator[None]:
    if progress:
        progress(name)
    t0 = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t0


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("campaign-report", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "duckdb",
                "pyspark", "sqlglot", "weasyprint", "python-pptx"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def analyze(config: Config, progress: Progress | None = None, timings: dict[str, float] | None = None,
            ) -> tuple[Results, pd.DataFrame | None]:
    """Run every configured analysis; returns Results and the full target list (or None)."""
    timings = timings if timings is not None else {}
    engine = open_engine(config.engine, config.path.parent)
    workdir = new_workdir()
    try:
        return _analyze(config, engine, workdir, progress, timings)
    finally:
        engine.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _analyze(config: Config, engine: Engine, workdir: Path, progress: Progress | None,
             timings: dict[str, float]) -> tuple[Results, pd.DataFrame | None]:
    language = config.report.language
    quality: list[TableQuality] = []
    inputs: list[InputFile] = []
    customers = assignment = None
    with _stage("load", timings, progress):
        raws = {name: load_raw(engine, source, workdir) for name, source in config.tables.items()}
        inputs = [raw.input_file for raw in raws.values()]
    with _stage("validate", timings, progress):
        if "customers" in raws:
            customers, q = clean_customers(engine, raws["customers"], config.tables["customers"])
            quality.append(q)
            engine.register("customers_clean", customers)
        if "experiment" in raws:
            assignment, q = clean_experiment(engine, raws["experiment"], config.tables["experiment"])
            quality.append(q)
        if "transactions" in raws:
            quality.append(clean_transactions(engine, raws["transactions"], config.tables["transactions"],
                                              pd.Timestamp(date.today())))
    has_tx = "transactions" in raws
    if not has_tx and config.segments is not None:
        raise ConfigError("config.toml: [segments] needs [data.transactions] (segments come from purchases)")
    if not has_tx and customers is None:
        raise ConfigError("config.toml: needs [data.transactions] or [data.customers]")
    with _stage("features", timings, progress):
        features = build_customer_features(engine, customers["id"] if customers is not None else None) \
            if has_tx else None
        imputation = None
        if customers is not None and config.propensity and "gender" in config.propensity.impute \
                and "gender" in customers:
            base = features.frame if features is not None else customers.drop(columns=["gender"])
            numeric = [c for c in base.columns if c not in ("id", "label", "age")
                       and pd.api.types.is_numeric_dtype(base[c])]
            joined = customers[["id", "gender"]].merge(base[["id", *numeric]], on="id", how="left")
            if "age" in customers:
                joined["age"] = customers["age"].fillna(customers["age"].median()).to_numpy()
                numeric.append("age")
            recovered = impute_attribute(joined.fillna({c: 0.0 for c in numeric}), "gender", numeric,
                                         config.propensity.seed, config.engine.sample_size)
            if recovered is not None:
                filled, was_missing, imputation = recovered
                customers = customers.assign(gender=filled.to_numpy(), gender_imputed=was_missing.to_numpy())
    table = model_table(features, customers)

    segments_result = rfm_result = None
    clusters = rfm_labels = cluster_model = None
    cluster_names: dict[int, str] = {}
    if config.segments is not None:
        with _stage("segments", timings, progress):
            assert features is not None
            segments_result, clusters, cluster_model = analyze_segments(features, customers, config.segments,
                                                                        config.engine.sample_size)
            cluster_names = {c.id: c.name_ru if language == "ru" else c.name_en for c in segments_result.clusters}
            if config.segments.rfm:
                rfm_result, rfm_labels = analyze_rfm(features.frame, config.segments.rfm_rules)

    experiment_result = None
    if config.experiment is not None and assignment is not None:
        with _stage("experiment", timings, progress):
            experiment_result = _run_experiment(config, engine, assignment, customers, cluster_model, cluster_names,
                                                rfm_labels is not None, quality, has_tx)

    propensity_result = None
    probability = None
    full_list = None
    selected = None
    if config.propensity is not None:
        with _stage("propensity", timings, progress):
            engine.register("model_base", table)
            selected = score_population(engine, "model_base", table, config.propensity.score_filter)
            propensity_result, probability = _run_propensity(config, engine, table, customers, features, selected)
            propensity_result = dataclasses.replace(propensity_result, imputation=imputation)

    offers_result = action_mask = action_offers = None
    if has_tx or probability is not None:
        with _stage("offers", timings, progress):
            offers_result, action_mask, action_offers, action = _run_offers(
                config, engine, table, probability, clusters, cluster_names, rfm_labels, experiment_result, has_tx)
            if propensity_result is not None:
                propensity_result = dataclasses.replace(propensity_result, action_segment=action)
    if propensity_result is not None and probability is not None and config.propensity is not None \
            and selected is not None:
        cluster_offer = {s.key: s.offers[0] for s in offers_result.segments if s.kind == "cluster" and s.offers} \
            if offers_result is not None else {}
        full_list = target_list(table, probability, selected, clusters, cluster_names, cluster_offer,
                                action_mask, action_offers.offers[0] if action_offers and action_offers.offers
                                else None, language)
        threshold = config.propensity.threshold
        summary = TargetListSummary(
            path="target_list.csv", size=len(full_list),
            above_threshold=int((full_list["probability"] >= threshold).sum()), threshold=threshold,
            score_filter=config.propensity.score_filter,
            top=tuple((str(r.customer_id), float(r.probability)) for r in full_list.head(5).itertuples()))
        propensity_result = dataclasses.replace(propensity_result, target_list=summary)

    meta = Meta(title=config.report.title, language=language, currency=config.report.currency,
                created=datetime.now().astimezone().isoformat(timespec="seconds"), config_hash=config.digest,
                inputs=tuple(inputs), versions=_versions(),
                as_of=features.as_of.isoformat() if features is not None else None, n_customers=len(table),
                engine=engine.description)
    results = Results(meta=meta, data_quality=tuple(quality), experiment=experiment_result,
                      segments=segments_result, rfm=rfm_result, propensity=propensity_result,
                      offers=offers_result)
    return results, full_list


def _add_issue(quality: list[TableQuality], table: str, issue: QualityIssue) -> None:
    """Add a finding made after validation to that table's record (one record per table)."""
    for i, q in enumerate(quality):
        if q.name == table:
            quality[i] = dataclasses.replace(q, issues=(*q.issues, issue))
            return


def _pre_campaign_segments(engine: Engine, customers, start: date, cluster_model: ClusterModel | None,
                           with_rfm: bool) -> tuple[pd.Series | None, pd.Series | None]:
    """Clusters and RFM from purchases before the campaign: segmenting the readout by anything the
    campaign itself changed (October purchases move RFM scores) would bias the per-segment effects."""
    engine.view("tx_pre", f"SELECT * FROM tx WHERE date < DATE '{start:%Y-%m-%d}'")
    if engine.scalar("SELECT count(*) FROM tx_pre") == 0:
        return None, None
    ids = customers["id"] if customers is not None else None
    pre = build_customer_features(engine, ids, table="tx_pre", as_of=pd.Timestamp(start))
    clusters = assign_clusters(cluster_model, pre, customers) if cluster_model is not None else None
    rfm = analyze_rfm(pre.frame)[1] if with_rfm else None
    return clusters, rfm


def _run_experiment(config, engine: Engine, assignment, customers, cluster_model, cluster_names, with_rfm, quality,
                    has_tx):
    settings = config.experiment
    source = config.tables["experiment"]
    groups = sorted(assignment["grp"].unique())
    control = pick_control(groups, source.column("control"))
    if control not in groups:
        raise InputError(source.path.name if source.path else "experiment", "control group value not found",
                         column=source.column("group"), value=control)
    if len(groups) < 2:
        raise InputError(source.path.name if source.path else "experiment",
                         "the experiment has a single group; nothing to compare", column=source.column("group"),
                         value=groups[0])
    outcome_cols = [c for c in ("converted", "revenue", "orders", "pre_revenue")
                    if c in assignment and assignment[c].notna().any()]
    if not has_tx and not {"converted", "revenue"} & set(outcome_cols):
        raise ConfigError("config.toml: [data.experiment] needs outcome columns (converted, revenue) "
                          "or a [data.transactions] table")
    if has_tx and (settings.start is None or settings.end is None):
        raise ConfigError("config.toml: [experiment] needs start and end dates")
    start = pd.Timestamp(settings.start).date() if settings.start else None
    end = pd.Timestamp(settings.end).date() if settings.end else None
    for col in outcome_cols:
        missing = int(assignment[col].isna().sum())
        if missing:
            # A missing outcome is read as "no purchase": said in the data-quality appendix.
            _add_issue(quality, "experiment", QualityIssue("missing_value", source.column(col), missing, "set_zero"))
    if customers is not None:
        unknown = int((~assignment["customer_id"].isin(customers["id"])).sum())
        if unknown:
            _add_issue(quality, "experiment", QualityIssue("unknown_customer", source.column("customer_id"),
                                                           unknown, "kept"))
    engine.register("exp_assigned", assignment[["customer_id", "grp", *outcome_cols]])
    window = (start, end) if has_tx and start and end else None
    pre_period_days = experiment_outcomes(engine, "exp_assigned", window)
    clusters, rfm_labels = _pre_campaign_segments(engine, customers, start, cluster_model, with_rfm) \
        if has_tx and start else (None, None)
    segment_map = {}
    for dim in settings.segment_by:
        if dim == "cluster" and clusters is not None:
            segment_map["cluster"] = clusters.map(cluster_names)
        elif dim == "rfm" and rfm_labels is not None:
            segment_map["rfm"] = rfm_labels
        elif customers is not None and dim in customers:
            segment_map[dim] = customers.set_index("id")[dim]
    labels = segment_labels(segment_map)
    if labels is not None:
        engine.register("exp_labels", labels)
    sums = experiment_sums(engine, "exp_units", "exp_labels" if labels is not None else None)
    observational: tuple[ObservationalEffect, ...] = ()
    if settings.observational is not None and has_tx:
        daily = daily_series(engine, settings.observational.city)
        observational = estimate_promo_days(daily, settings.observational, settings.confidence)
    excluded = sum(i.count for q in quality if q.name == "experiment" for i in q.issues
                   if i.kind == "customer_in_several_groups")
    window_has_data = True
    if window is not None:
        window_has_data = engine.scalar(f"SELECT count(*) FROM tx WHERE date BETWEEN DATE '{start:%Y-%m-%d}' "
                                        f"AND DATE '{end:%Y-%m-%d}'") > 0
    return analyze_experiment(sums, settings, control, excluded, observational,
                              pre_period_days=pre_period_days, window_has_data=window_has_data)


def _scores(engine: Engine, table: pd.DataFrame, model, columns: tuple[str, ...]) -> np.ndarray:
    """Probabilities for every row of the model table, computed by the engine in batches."""
    scored = engine.score("SELECT * FROM model_base", "id", ProbabilityScorer(model, columns))
    by_id = pd.Series(scored["score"].to_numpy(dtype=float), index=scored["id"].astype(str).to_numpy())
    return by_id.reindex(table["id"].astype(str).to_numpy()).to_numpy()


def _run_propensity(config: Config, engine: Engine, table: pd.DataFrame, customers,
                    features: CustomerFeatures | None, selected: np.ndarray) -> tuple[PropensityResult, np.ndarray]:
    settings = config.propensity
    assert settings is not None
    sample_size = config.engine.sample_size
    source = config.tables.get("customers")
    exclude = {"id", "profit", "gender_imputed", *settings.exclude}
    if customers is not None and source is not None and "label" in customers and customers["label"].notna().any():
        positive = source.column("positive")
        labels = customers.set_index("id")["label"].reindex(table["id"])
        values = sorted(labels.dropna().unique().astype(str))
        if positive is None:
            raise ConfigError("config.toml: [data.customers] needs 'positive' (the label value that counts)")
        if positive not in values:
            raise InputError(source.path.name if source.path else "customers", "label value not found "
                             f"(values: {', '.join(values[:5])})", column=source.column("label"), value=positive)
        known = labels.notna().to_numpy()
        y = (labels[known].astype(str) == positive).to_numpy()
        train = table[known]
        if settings.score_filter and (known & ~selected).sum() >= 200:
            # Score the chosen population out of sample: it is left out of fitting.
            keep = ~selected[known]
            train, y = train[keep], y[keep]
        population = len(train)
        train, y = outcome_stratified_sample(train.reset_index(drop=True), y, sample_size, settings.seed)
        result, model = fit_propensity(train, y, settings, target=f"{source.column('label')} = {positive}",
                                       target_source="label", exclude=exclude)
        result = dataclasses.replace(result, n_population=population)
        cols = list(result.features)
        probability = pd.Series(_scores(engine, table, model, result.features), index=table["id"].to_numpy())
        oof = out_of_fold_probability(model, train[cols], y, settings.cv_folds, settings.seed)
        probability[train["id"].to_numpy()] = oof
        return result, probability.to_numpy()
    # Derived target: no purchase in the last `horizon_days`, from features computed before that.
    if features is None:
        raise ConfigError("config.toml: [propensity] without a label column needs [data.transactions]")
    cutoff = pd.Timestamp(features.as_of) - pd.Timedelta(days=settings.horizon_days)
    engine.view("tx_before", f"SELECT * FROM tx WHERE date < DATE '{cutoff:%Y-%m-%d}'")
    buyers = engine.frame("SELECT DISTINCT customer_id FROM tx_before ORDER BY customer_id")["customer_id"]
    if len(buyers) < 200:
        raise ConfigError("config.toml: [propensity] too little history before the horizon to derive a target")
    past = build_customer_features(engine, buyers, table="tx_before", as_of=cutoff)
    past_table = model_table(past, customers[customers["id"].isin(buyers)] if customers is not None else None)
    active = {r[0] for r in engine.rows(f"SELECT DISTINCT customer_id FROM tx WHERE date >= DATE '{cutoff:%Y-%m-%d}'")}
    y = (~past_table["id"].isin(active)).to_numpy()
    population = len(past_table)
    past_table, y = outcome_stratified_sample(past_table, y, sample_size, settings.seed)
    result, model = fit_propensity(past_table, y, settings,
                                   target=f"no_purchase_{settings.horizon_days}d", target_source="derived",
                                   exclude=exclude)
    result = dataclasses.replace(result, n_population=population)
    # Scores use the features as of today: the probability of no purchase in the next horizon.
    return result, _scores(engine, table, model, result.features)


def _run_offers(config, engine: Engine, table, probability, clusters, cluster_names, rfm_labels, experiment_result,
                has_tx):
    settings = config.offers
    pairs = co_purchase_pairs(engine, settings.min_support) if has_tx else ()
    base = table.copy()
    if probability is not None:
        base["probability"] = probability
    ab_by_segment: dict[tuple[str, str], SegmentEffect] = {}
    if experiment_result is not None:
        for e in experiment_result.by_segment:
            if e.metric == experiment_result.primary:
                ab_by_segment.setdefault((e.dimension, e.segment), e)
    campaign_type = config.experiment.offer_type if config.experiment else "discount"
    results: list[SegmentOffers] = []
    if clusters is not None:
        labels = clusters.reindex(base["id"]).to_numpy()
        for cid in sorted(pd.unique(labels)):
            ab = ab_by_segment.get(("cluster", cluster_names.get(int(cid))))
            ev = segment_evidence("cluster", str(int(cid)), base[labels == cid], base, pairs, ab)
            results.append(recommend(ev, settings, campaign_type))
    if rfm_labels is not None:
        labels = rfm_labels.reindex(base["id"]).to_numpy()
        for seg in pd.unique(labels):
            ev = segment_evidence("rfm", str(seg), base[labels == seg], base, pairs,
                                  ab_by_segment.get(("rfm", str(seg))))
            results.append(recommend(ev, settings, campaign_type))
    action_mask = action_offers = action = None
    if probability is not None:
        action, action_mask = action_segment(base, probability, config.propensity.high_risk_quantile)
        ev = segment_evidence("action", "high_risk_high_profit", base[action_mask.to_numpy()], base, pairs, None)
        action_offers = recommend(ev, settings, campaign_type)
        results.append(action_offers)
    return OffersResult(tuple(results), pairs, settings.min_customers), action_mask, action_offers, action


def publish(out_dir: Path, files: dict[str, Callable[[Path], Path]], keep_history: int = 5) -> dict[str, Path]:
    """Write every file into a staging folder, then move them to the top level; keep the previous run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".staging-{os.getpid()}-{int(time.time() * 1000)}"
    staging.mkdir()
    try:
        for name, write in files.items():
            write(staging / name)
        previous = [out_dir / n for n in OUTPUT_FILES if (out_dir / n).exists()]
        if previous:
            history = out_dir / "history" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            history.mkdir(parents=True)
            for p in previous:
                shutil.copy2(p, history / p.name)
            runs = sorted((out_dir / "history").iterdir())
            for old in runs[:-keep_history] if keep_history > 0 else runs:
                shutil.rmtree(old, ignore_errors=True)
        published = {}
        for name in files:
            target = out_dir / name
            os.replace(staging / name, target)
            published[name] = target
        for stale in set(OUTPUT_FILES) - set(files):
            (out_dir / stale).unlink(missing_ok=True)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_report(config_path: str | Path, out_dir: str | Path | None = None,
               progress: Progress | None = None) -> RunOutcome:
    """Analyse, render and publish; nothing reaches out_dir unless everything succeeded.

    Every run is recorded in the output folder's ledger (a failed one only if the folder exists already).
    """
    from renderers.email import write_email
    from renderers.exports import write_results_json, write_target_list
    from renderers.pdf import render_pdf
    from renderers.pptx import render_pptx
    from renderers.view import build_view

    config = load_config(config_path)
    target = Path(out_dir).resolve() if out_dir else config.output_dir
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    key = inputs_key(config)
    timings: dict[str, float] = {}
    try:
        results, full_list = analyze(config, progress, timings)
        with _stage("render", timings, progress):
            view = build_view(results)
            files: dict[str, Callable[[Path], Path]] = {
                "results.json": lambda p: write_results_json(results, view, p),
                "brief.pdf": lambda p: render_pdf(view, p),
                "deck.pptx": lambda p: render_pptx(view, p),
                "email.json": lambda p: write_email(view, p),
            }
            if full_list is not None:
                files["target_list.csv"] = lambda p: write_target_list(full_list, p)
            published = publish(target, files, config.report.keep_history)
    except Exception as exc:
        if target.is_dir():
            ledger = Ledger(target)
            ledger.record_run(started, "failed", key, f"{type(exc).__name__}: {exc}")
            ledger.close()
        raise
    ledger = Ledger(target)
    ledger.record_run(started, "ok", key)
    ledger.close()
    return RunOutcome(results=results, output_dir=target, files=published, stage_seconds=timings)
