"""config -> Results: every configured analysis, in order, on the configured engine.

load -> validate -> features -> segments -> experiment -> propensity -> offers -> uplift. Each stage is a plain
function in its own subpackage; this module only decides what runs, in which order, on what data.
It neither prints nor writes files: progress goes to an optional callback.
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from campaign_report.analysis.config import Config
from campaign_report.analysis.customers.lifetime import analyze_lifetime, customer_value_list
from campaign_report.analysis.customers.rfm import analyze_rfm, cycle_from_gaps, risk_overlaps
from campaign_report.analysis.customers.segments import analyze_segments
from campaign_report.analysis.data.acquisition import acquisition_issue, find_acquisition_stop
from campaign_report.analysis.data.clean import TableQuality, clean_customers, clean_experiment, clean_transactions
from campaign_report.analysis.data.features import build_customer_features, purchase_gaps
from campaign_report.analysis.data.large_lines import find_large_lines, large_lines_issue
from campaign_report.analysis.data.load import InputFile, load_raw, new_workdir
from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.engines.registry import open_engine
from campaign_report.analysis.errors import ConfigError
from campaign_report.analysis.experiment.run import run_experiment
from campaign_report.analysis.history.entry import build_history, campaign_entry
from campaign_report.analysis.history.result import CampaignEntry
from campaign_report.analysis.meaning import describe_data
from campaign_report.analysis.model.run import (
    assemble_target_list,
    impute_gender,
    known_outcomes,
    list_membership,
    run_propensity,
)
from campaign_report.analysis.model.targeting import model_table, score_population
from campaign_report.analysis.offers.run import ListScores, run_offers
from campaign_report.analysis.results import Meta, Results
from campaign_report.analysis.uplift.run import run_uplift

# Called twice per stage: (name, None) when it starts, (name, seconds) when it has finished.
StageCallback = Callable[[str, "float | None"], None]
STAGES = ("load", "validate", "features", "segments", "lifetime", "experiment", "propensity", "offers", "uplift")


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: StageCallback | None) -> Iterator[None]:
    if progress:
        progress(name, None)
    t0 = time.perf_counter()
    yield
    _return_freed_memory()
    timings[name] = time.perf_counter() - t0
    if progress:
        progress(name, timings[name])


def _return_freed_memory() -> None:
    """Give the memory a stage freed back to the system. A stage's frames of text (ids, names, labels) are
    millions of small objects; glibc keeps their freed pages in its arenas, so without this the process grew by
    each stage's garbage (1M customers: 1.9 GB after validation, 3.5 GB after the experiment) although no stage
    needed more than the one before. malloc_trim is glibc's own call for it; elsewhere nothing is done."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("campaign-report", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "duckdb",
                "pyspark", "sqlglot", "weasyprint", "python-pptx"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def analyze(config: Config, progress: StageCallback | None = None,
            timings: dict[str, float] | None = None, earlier_looks: int = 0,
            earlier_campaigns: tuple[CampaignEntry, ...] = ()) -> Results:
    """Run every configured analysis and return the Results (the full target list rides along).
    `earlier_looks`: how often this campaign was read before its window ended (the pipeline's ledger knows;
    it decides `[experiment] sequential = "auto"`). `earlier_campaigns`: the campaigns read before into the
    same output folder (the pipeline's campaign store), which the history compares this one with."""
    timings = timings if timings is not None else {}
    if not config.tables:  # a config may hold only [email] for `send`, but a run needs data
        raise ConfigError("needs [data.transactions], [data.customers] or [data.experiment]", config.shown_path)
    if "transactions" not in config.tables and "experiment" not in config.tables and config.propensity is None:
        # Otherwise the run "succeeds" with an empty decision slide and a data-quality appendix.
        raise ConfigError("[data.customers] alone has nothing to analyse: give it a label to predict (label and "
                          "positive), or add [data.transactions] (segments, value) or [data.experiment] (a test)",
                          config.shown_path)
    workdir = new_workdir()
    try:
        engine = open_engine(config.engine, config.path.parent, [*config.read_folders, workdir])
    except ConfigError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise exc.in_file(config.shown_path) from None
    try:
        return _analyze(config, engine, workdir, progress, timings, earlier_looks, earlier_campaigns)
    except ConfigError as exc:  # raised deep in a stage: still names the file the user ran
        raise exc.in_file(config.shown_path) from None
    finally:
        engine.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _analyze(config: Config, engine: Engine, workdir: Path, progress: StageCallback | None,
             timings: dict[str, float], earlier_looks: int = 0,
             earlier_campaigns: tuple[CampaignEntry, ...] = ()) -> Results:
    language = config.report.language
    quality: list[TableQuality] = []
    inputs: list[InputFile] = []
    customers = assignment = acquisition_stop = large_lines = None
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
            tx_quality = clean_transactions(engine, raws["transactions"], config.tables["transactions"],
                                            pd.Timestamp(date.today()))
            # Flagged, never cut: a cohort and an export that wrote new orders onto old ids look the same.
            acquisition_stop = find_acquisition_stop(engine)
            if acquisition_stop is not None:
                tx_quality = dataclasses.replace(tx_quality, issues=(*tx_quality.issues, acquisition_issue(
                    acquisition_stop, config.tables["transactions"].column("date"))))
            # Flagged, never cut either: a wholesale order and a mistyped quantity look the same.
            large_lines = find_large_lines(engine)
            if large_lines is not None:
                tx_source = config.tables["transactions"]
                amount = tx_source.column("amount") or f"{tx_source.column('price')} × {tx_source.column('quantity')}"
                tx_quality = dataclasses.replace(tx_quality, issues=(*tx_quality.issues,
                                                                     large_lines_issue(large_lines, amount)))
            quality.append(tx_quality)
    has_tx = "transactions" in raws
    notes: list[tuple[str, str]] = [(code, "") for code in config.defaults_applied]
    meaning = describe_data(config, engine, customers, assignment, has_tx, acquisition_stop, large_lines)
    with _stage("features", timings, progress):
        features = build_customer_features(engine, customers["id"] if customers is not None else None) \
            if has_tx else None
        cycle = cycle_from_gaps(*purchase_gaps(engine)) if has_tx else None
        imputation = None
        if customers is not None:
            customers, imputation = impute_gender(config, customers, features)
            if imputation is not None:  # the engine's copy follows, and the frame before imputation is freed
                engine.register("customers_clean", customers)
    table = model_table(features, customers) if features is not None or customers is not None else \
        pd.DataFrame({"id": assignment["customer_id"].drop_duplicates().to_numpy()}) if assignment is not None \
        else pd.DataFrame({"id": []})

    segments_result = rfm_result = None
    clusters = rfm_labels = cluster_model = None
    cluster_names: dict[int, str] = {}
    if config.segments is not None:
        with _stage("segments", timings, progress):
            assert features is not None
            segments_result, clusters, cluster_model = analyze_segments(
                features, customers, config.segments, config.engine.sample_size,
                flagged=large_lines.by_customer() if large_lines else None)
            cluster_names = {c.id: c.name_ru if language == "ru" else c.name_en for c in segments_result.clusters}
            if config.segments.rfm:
                rfm_result, rfm_labels = analyze_rfm(features.frame, config.segments.rfm_rules, cycle)

    lifetime_result = customer_values = values = None
    if has_tx and config.lifetime.enabled:
        assert features is not None
        with _stage("lifetime", timings, progress):
            found = analyze_lifetime(engine, features.first_date, features.as_of, config.lifetime.horizon_days,
                                     config.margin, clusters, rfm_labels, config.lifetime.p_alive_cut)
            if found is not None:
                lifetime_result, values = found
                customer_values = customer_value_list(values, clusters, cluster_names, rfm_labels)
        if found is None:
            notes.append(("lifetime_too_few", ""))

    experiment_result = None
    if config.experiment is not None and assignment is not None:
        with _stage("experiment", timings, progress):
            experiment_result = run_experiment(config, engine, assignment, customers, cluster_model, cluster_names,
                                               rfm_labels is not None, quality, has_tx, notes, earlier_looks)

    propensity_result = scores = None
    if config.propensity is not None:
        with _stage("propensity", timings, progress):
            engine.register("model_base", table)
            selected = score_population(engine, "model_base", table, config.propensity.score_filter)
            propensity_result, probability, screened = run_propensity(config, engine, table, customers, features,
                                                                      selected)
            quality.append(screened)
            propensity_result = dataclasses.replace(propensity_result, imputation=imputation)
            scores = ListScores(probability, selected, list_membership(config, probability, selected,
                                                                       propensity_result.holdout.cutoff))

    offers_result = action_mask = None
    if has_tx or scores is not None:
        with _stage("offers", timings, progress):
            offers_result, action_mask, action = run_offers(config, engine, table, meaning, scores, clusters,
                                                            cluster_names, rfm_labels, cycle, experiment_result,
                                                            values if lifetime_result is not None
                                                            and lifetime_result.fits else None)
            if propensity_result is not None:
                if action is not None and action_mask is not None and values is not None \
                        and lifetime_result is not None and lifetime_result.slipping is not None:
                    slipping_ids = set(values["id"][values["slipping_away"]].astype(str))
                    action = dataclasses.replace(action, also_slipping=int(
                        table["id"][action_mask].astype(str).isin(slipping_ids).sum()))
                propensity_result = dataclasses.replace(propensity_result, action_segment=action)
    full_list = None
    if propensity_result is not None and scores is not None:
        full_list, summary = assemble_target_list(config, table, scores.probability, scores.selected,
                                                  scores.on_list, action_mask, clusters, cluster_names,
                                                  offers_result, probability_cut=propensity_result.holdout.cutoff)
        summary = dataclasses.replace(summary, known=known_outcomes(meaning, customers, table, scores.selected,
                                                                    scores.on_list))
        propensity_result = dataclasses.replace(propensity_result, target_list=summary)

    if rfm_result is not None and rfm_result.risk is not None and rfm_labels is not None:
        rfm_result = dataclasses.replace(rfm_result, risk=risk_overlaps(
            rfm_result.risk, rfm_labels, table["id"][scores.selected & scores.on_list] if scores is not None else None,
            values["id"][values["slipping_away"]] if values is not None and lifetime_result is not None
            and lifetime_result.slipping is not None else None))

    uplift_result = uplift_list = None
    if experiment_result is not None and config.uplift.enabled and (has_tx or customers is not None):
        if experiment_result.decision.verdict == "invalid":
            notes.append(("uplift_invalid_test", ""))  # a broken split cannot say who responds
        else:
            with _stage("uplift", timings, progress):
                uplift_result, uplift_list, why_not = run_uplift(config, engine, experiment_result, table, customers,
                                                                 has_tx, scores.probability if scores else None)
            if uplift_result is None:
                notes.append((why_not, ""))

    created = datetime.now().astimezone().isoformat(timespec="seconds")
    history = None
    if experiment_result is not None and config.experiment is not None:
        history = build_history(earlier_campaigns, campaign_entry(config, experiment_result, uplift_result, created),
                                config.experiment.confidence)
    meta = Meta(title=config.report.title, language=language, currency=config.report.currency,
                created=created, config_hash=config.digest,
                inputs=tuple(inputs), versions=_versions(),
                as_of=features.as_of.isoformat() if features is not None else None, n_customers=len(table),
                engine=engine.description, names=dict(config.report.names), run_notes=tuple(notes))
    return Results(meta=meta, meaning=meaning, data_quality=tuple(quality), experiment=experiment_result,
                   segments=segments_result, rfm=rfm_result, propensity=propensity_result,
                   offers=offers_result, target_list=full_list, uplift=uplift_result, uplift_list=uplift_list,
                   lifetime=lifetime_result, customer_value=customer_values, history=history)
