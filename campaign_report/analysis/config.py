"""config.toml read once into a typed, frozen Config, validated at this boundary.

Unknown keys and missing required keys are errors that name the key (DESIGN.md). Relative paths are
resolved against the config file's folder; the types it builds are in `settings`. Secrets never live
here: the SMTP password comes from the environment variable SMTP_PASSWORD at send time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from campaign_report.analysis.config_tables import (
    check_postgres_url,
    choice,
    did_you_mean,
    expand_environment,
    table_source,
)
from campaign_report.analysis.engines.sql_guard import check_condition
from campaign_report.analysis.errors import ConfigError
from campaign_report.analysis.settings import (  # noqa: F401 - the settings types are part of this module's API
    POSITIVE_IS,
    SOURCE_KEYS,
    TABLE_OPTIONS,
    TABLE_ROLES,
    WHITESPACE,
    Config,
    EmailConfig,
    EngineConfig,
    ExperimentConfig,
    LifetimeConfig,
    ObservationalConfig,
    OfferRule,
    OffersConfig,
    PropensityConfig,
    ReportConfig,
    RfmRule,
    SegmentsConfig,
    TableSource,
    UpliftConfig,
)


def _declared(field: dataclasses.Field) -> str | None:
    """The scalar type a field declares ("str", "int", "float", "bool"), None for anything else."""
    names = [t.strip() for t in str(field.type).split("|") if t.strip() != "None"]
    return names[0] if len(names) == 1 and names[0] in ("str", "int", "float", "bool") else None


def _check_type(section: str, key: str, value: Any, field: dataclasses.Field) -> Any:
    """The value in the field's declared type (a TOML list becomes a tuple), or a ConfigError saying what was due."""
    default, declared = field.default, _declared(field)
    if isinstance(default, tuple) or str(field.type).startswith("tuple"):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"[{section}] {key} must be a list, e.g. {key} = [{value!r}]")
        _check_range(section, key, value, field)
        return tuple(value)
    if declared == "bool" and not isinstance(value, bool):
        raise ConfigError(f"[{section}] {key} must be true or false, got {value!r}")
    if declared in ("int", "float") and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        raise ConfigError(f"[{section}] {key} must be a number, got {value!r}")
    if declared == "int" and isinstance(value, float):
        raise ConfigError(f"[{section}] {key} must be a whole number, got {value!r}")
    if declared == "str" and not isinstance(value, str):
        raise ConfigError(f"[{section}] {key} must be a string (in quotes), got {value!r}")
    _check_range(section, key, value, field)
    return value


def _check_range(section: str, key: str, value: Any, field: dataclasses.Field) -> None:
    """The field's declared range and date form (settings.key), for a value or every element of a list."""
    valid = field.metadata.get("range")
    values = value if isinstance(value, (list, tuple)) else (value,)
    for item in values:
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"[{section}] {key} must be a finite number, got {item!r}")
        if valid is not None and isinstance(item, (int, float)) and not isinstance(item, bool) and \
                not valid.holds(item):
            raise ConfigError(f"[{section}] {key} must be {valid.text()}, got {item!r}")
        if field.metadata.get("date") and item is not None:
            if not isinstance(item, str):
                raise ConfigError(f"[{section}] {key} must be a date as \"YYYY-MM-DD\" (in quotes), got {item!r}")
            _check_date(item, f"[{section}] {key}")


def _build(cls: type, table: Any, section: str, rename: dict[str, str] | None = None) -> Any:
    """Build a frozen dataclass from a TOML table, rejecting unknown keys and values of the wrong type
    (checked against each field's declared type: the dataclasses are the schema)."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table")
    rename = rename or {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        name = rename.get(key, key)
        if name not in fields:
            known = [k for k in (*fields, *rename) if k not in rename.values()]
            raise ConfigError(f"unknown key '{key}' in [{section}]{did_you_mean(key, known)}")
        kwargs[name] = _check_type(section, key, value, fields[name])
    missing = [n for n, f in fields.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               and n not in kwargs]
    if missing:
        raise ConfigError(f"missing key '{missing[0]}' in [{section}]")
    return cls(**kwargs)


def _expected_split(value: Any) -> tuple[tuple[str, float], ...]:
    """`expected_split = { control = 0.5, treatment = 0.5 }`: group -> planned share, summing to 1."""
    if isinstance(value, list):
        raise ConfigError("[experiment] expected_split must name each group's share, e.g. "
                          "expected_split = { control = 0.5, treatment = 0.5 } (a list leaves open whose share "
                          "is whose)")
    if not isinstance(value, dict):
        raise ConfigError(f"[experiment] expected_split must be a table of group = share, got {value!r}")
    if not value:
        return ()
    for group, share in value.items():
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share < 1:
            raise ConfigError(f"[experiment] expected_split: the share of '{group}' must be a number "
                              f"between 0 and 1, got {share!r}")
    if len(value) < 2:
        raise ConfigError("[experiment] expected_split needs the control and at least one treatment")
    total = sum(value.values())
    if abs(total - 1) > 0.001:
        raise ConfigError(f"[experiment] expected_split shares sum to {total:g}, not 1")
    return tuple((str(group), float(share)) for group, share in value.items())


def _check_date(value: str, where: str) -> None:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where} must be a date as YYYY-MM-DD, got {value!r}") from None
    if not 1900 <= parsed.year <= 2200:  # a typo such as 0202-10-01 or 20266-01-01, never a campaign's date
        raise ConfigError(f"{where} must be a date between 1900 and 2200, got {value!r}")


def _check_cutoff(section: dict[str, Any]) -> None:
    from campaign_report.analysis.model.cutoff import parse_cutoff

    if "cutoff" in section and "threshold" in section:
        raise ConfigError("[propensity] give either cutoff or threshold (threshold = 0.8 is "
                          "cutoff = \"probability 0.8\")")
    try:
        parse_cutoff(section["cutoff"]) if "cutoff" in section else None
    except ValueError as exc:
        raise ConfigError(f"[propensity] {exc}") from None


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; every problem is a ConfigError naming the file and the key."""
    shown = str(path)
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError("config file not found", shown)
    raw_bytes = path.read_bytes()
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", shown) from None
    try:
        config = _parse(raw, path, hashlib.sha256(raw_bytes).hexdigest())
    except ConfigError as exc:
        raise exc.in_file(shown) from None
    return dataclasses.replace(config, shown_path=shown)


def config_from_dict(data: dict[str, Any], folder: str | Path = ".") -> Config:
    """A Config built in code from the same structure as config.toml (nested dicts and lists).

    Relative paths, `sql` file references and output_dir resolve against `folder`.
    """
    if not isinstance(data, dict):
        raise ConfigError("expected a dict of sections like config.toml's", "config")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    try:
        config = _parse(data, Path(folder).resolve() / "config.toml", digest)
    except ConfigError as exc:
        raise exc.in_file("config") from None
    return dataclasses.replace(config, shown_path="config")


def _parse(raw: dict[str, Any], path: Path, digest: str) -> Config:
    """Validate the parsed config.toml structure; `path` is where relative paths start from."""
    known = {"report", "data", "experiment", "segments", "propensity", "offers", "engine", "email", "uplift",
             "lifetime"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown section [{key}]{did_you_mean(key, known)}")
        if not isinstance(raw[key], dict):
            raise ConfigError(f"{key} must be a section [{key}], got {key} = {raw[key]!r}")
    if "report" not in raw:
        raise ConfigError("missing section [report]")
    report = _build(ReportConfig, raw["report"], "report")
    if not isinstance(report.names, dict) or not all(isinstance(v, str) for v in report.names.values()):
        raise ConfigError("[report.names] must map names in the data to display names (strings)")
    choice(report.language, ("ru", "en"), "[report] language")
    base = path.parent
    engine_kind = raw.get("engine", {}).get("kind", "duckdb")
    tables = {name: table_source(name, t, base, engine_kind if isinstance(engine_kind, str) else "duckdb")
              for name, t in raw.get("data", {}).items()}

    experiment = None
    defaults_applied: tuple[str, ...] = ()
    # The default cuts are by cluster and RFM: without [segments] there are none, and nobody asked for them.
    default_cuts = ExperimentConfig.segment_by if "segments" in raw else ()
    if "experiment" in raw:
        exp_raw = dict(raw["experiment"])
        obs_raw = exp_raw.pop("observational", None)
        split = _expected_split(exp_raw.pop("expected_split", {}))
        experiment = dataclasses.replace(_build(ExperimentConfig, {"segment_by": default_cuts, **exp_raw},
                                                "experiment"), expected_split=split)
        if obs_raw is not None:
            obs = _build(ObservationalConfig, obs_raw, "experiment.observational")
            experiment = dataclasses.replace(experiment, observational=obs)
        if experiment.sequential not in (True, False, "auto"):
            raise ConfigError(f"[experiment] sequential must be \"auto\", true or false, got {experiment.sequential!r}")
        choice(experiment.correction, ("holm", "bh", "none"), "[experiment] correction")
        choice(experiment.family, ("all", "primary"), "[experiment] family")
        for metric in experiment.metrics:
            choice(metric, ExperimentConfig.metrics, "[experiment] metrics")
        choice(experiment.primary, ExperimentConfig.metrics, "[experiment] primary")
        if experiment.start and experiment.end and \
                date.fromisoformat(experiment.start) > date.fromisoformat(experiment.end):
            raise ConfigError(f"[experiment] start ({experiment.start}) is after end ({experiment.end})")
        if "experiment" not in tables:
            raise ConfigError("[experiment] needs a [data.experiment] table")
    if experiment is None and "experiment" in tables:
        # An experiment table says there was a test: read it out with defaults rather than ignore it.
        has_tx = "transactions" in tables
        experiment = ExperimentConfig(metrics=ExperimentConfig.metrics if has_tx else ("conversion", "arpu"),
                                      segment_by=default_cuts)
        defaults_applied += ("experiment_defaults",)
    segments = None
    if "segments" in raw:
        seg_raw = dict(raw["segments"])
        rules = tuple(_build(RfmRule, {k: tuple(v) if isinstance(v, list) else v for k, v in r.items()},
                             "segments.rfm_rules") for r in seg_raw.pop("rfm_rules", []))
        segments = _build(SegmentsConfig, seg_raw, "segments")
        segments = dataclasses.replace(segments, rfm_rules=rules)
        if segments.k_min > segments.k_max:
            raise ConfigError(f"[segments] k_min ({segments.k_min}) is above k_max ({segments.k_max})")
        for rule in rules:
            for score in ("r", "f", "m"):
                low, high = getattr(rule, score)
                if low > high:
                    raise ConfigError(f"[segments.rfm_rules] {rule.name}: {score} = [{low}, {high}] is empty "
                                      "(the low end is above the high end)")
        if not (segments.k == "auto" or (isinstance(segments.k, int) and segments.k >= 2)):
            raise ConfigError("[segments] k must be \"auto\" or an integer >= 2")
    propensity = _build(PropensityConfig, raw["propensity"], "propensity") if "propensity" in raw else None
    if propensity is not None and propensity.score_filter is not None:
        check_condition(propensity.score_filter, "[propensity] score_filter")
    if propensity is not None:
        _check_cutoff(raw["propensity"])
    if propensity is None and "customers" in tables and "label" in tables["customers"].roles:
        # A label says what the user wants predicted: run the model with defaults rather than ignore it.
        propensity = PropensityConfig()
        defaults_applied += ("propensity_defaults",)
    offers_raw = dict(raw.get("offers", {}))
    catalogue = tuple(
        _build(OfferRule, {**o, "when": tuple(tuple(c) for c in o.get("when", [])),
                           "unless": tuple(tuple(c) for c in o.get("unless", []))}, "offers.catalogue")
        for o in offers_raw.pop("catalogue", []))
    offers = dataclasses.replace(_build(OffersConfig, offers_raw, "offers"), catalogue=catalogue)
    engine_raw = dict(raw.get("engine", {}))
    conf_raw = engine_raw.pop("conf", {})
    if not isinstance(conf_raw, dict):
        raise ConfigError("[engine.conf] must be a table of Spark settings")
    engine = _build(EngineConfig, engine_raw, "engine")
    engine = dataclasses.replace(engine, conf=tuple((str(k), str(v)) for k, v in conf_raw.items()))
    choice(engine.kind, ("duckdb", "spark", "postgres"), "[engine] kind")
    if engine.master is not None and engine.kind != "spark":
        raise ConfigError("[engine] master is a Spark setting; set kind = \"spark\"")
    if (engine.url is None) != (engine.kind != "postgres"):
        raise ConfigError("[engine] url is needed with kind = \"postgres\" and only then")
    if engine.url is not None:
        check_postgres_url(engine.url, "[engine]")
    if engine.read_folders and engine.kind != "duckdb":
        raise ConfigError("[engine] read_folders limits DuckDB's file access; Spark and PostgreSQL read what "
                          "their own permissions allow")
    engine = dataclasses.replace(engine, read_folders=tuple(
        str((base / expand_environment(folder, "[engine] read_folders")).resolve()) for folder in engine.read_folders))
    if engine.memory_limit is not None and engine.kind != "duckdb":
        raise ConfigError("[engine] memory_limit is a DuckDB setting (Spark: [engine.conf])")
    email = None
    if "email" in raw:
        if "password" in raw["email"]:
            raise ConfigError("[email] password must not be in the config; "
                              "set the SMTP_PASSWORD environment variable")
        email = _build(EmailConfig, raw["email"], "email", rename={"from": "sender"})
        for address in email.to:
            if not isinstance(address, str) or "@" not in address:
                raise ConfigError(f"[email] to must list e-mail addresses, got {address!r}")
        choice(email.security, ("starttls", "ssl", "none"), "[email] security")
        if email.security == "none" and email.username and email.smtp_host not in ("localhost", "127.0.0.1", "::1"):
            raise ConfigError("[email] security = \"none\" with a username would send the SMTP password "
                              f"unencrypted to {email.smtp_host}; use \"starttls\" or \"ssl\"")
    _check_roles(tables, segments, propensity)
    lifetime = _build(LifetimeConfig, raw.get("lifetime", {}), "lifetime")
    return Config(path=path, report=report, tables=tables, experiment=experiment, segments=segments,
                  propensity=propensity, offers=offers, engine=engine, email=email,
                  uplift=_uplift(raw.get("uplift", {})), lifetime=lifetime, digest=digest,
                  defaults_applied=defaults_applied)


def _check_roles(tables: dict[str, TableSource], segments: SegmentsConfig | None,
                 propensity: PropensityConfig | None) -> None:
    """What each analysis needs, checked before any data is read."""
    if segments is not None and "transactions" not in tables:
        raise ConfigError("[segments] needs [data.transactions] (segments come from purchases)")
    has_label = "customers" in tables and tables["customers"].column("label") is not None
    if propensity is not None and not has_label and "transactions" not in tables:
        raise ConfigError("[propensity] needs a label ([data.customers] label and positive) or [data.transactions] "
                          "(the target is then no purchase in horizon_days)")
    if propensity is not None and propensity.features_before is not None and "transactions" not in tables:
        raise ConfigError("[propensity] features_before needs [data.transactions]")


def _uplift(table: Any) -> UpliftConfig:
    uplift = _build(UpliftConfig, table, "uplift")
    choice(uplift.outcome, ("", "conversion", "revenue", "orders"), "[uplift] outcome")
    for model in uplift.models:
        choice(model, UpliftConfig.models, "[uplift] models")
    if not uplift.models:
        raise ConfigError("[uplift] models must name at least one learner")
    if uplift.score_filter is not None:
        check_condition(uplift.score_filter, "[uplift] score_filter")
    return uplift
