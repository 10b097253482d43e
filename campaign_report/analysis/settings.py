"""The typed, frozen settings a config file is read into (parsed and validated by `config`).

Every key carries its meaning in the field's metadata: docs/config.md (the config reference) and the
config's JSON Schema are generated from these dataclasses and the table-key registries below, so the
documentation cannot drift from what the parser accepts.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

REQUIRED: Any = MISSING


@dataclass(frozen=True)
class Range:
    """The values a numeric key may take: bounds inclusive (at_least, at_most) or exclusive (above, below).
    The parser checks every value against it, and the reference and the JSON Schema state it."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    def holds(self, value: float) -> bool:
        return math.isfinite(value) and \
            (self.at_least is None or value >= self.at_least) and (self.above is None or value > self.above) and \
            (self.at_most is None or value <= self.at_most) and (self.below is None or value < self.below)

    def text(self) -> str:
        """"at least 2", "between 0 and 1 (exclusive)", "from 1 to 65535"."""
        low = (f"{self.at_least:g}", True) if self.at_least is not None else (f"{self.above:g}", False) \
            if self.above is not None else None
        high = (f"{self.at_most:g}", True) if self.at_most is not None else (f"{self.below:g}", False) \
            if self.below is not None else None
        if low and high:
            if low[1] and high[1]:
                return f"from {low[0]} to {high[0]}"
            if not low[1] and not high[1]:
                return f"between {low[0]} and {high[0]} (exclusive)"
            return f"{'≥' if low[1] else '>'} {low[0]} and {'≤' if high[1] else '<'} {high[0]}"
        if low:
            return f"at least {low[0]}" if low[1] else f"above {low[0]}"
        if high:
            return f"at most {high[0]}" if high[1] else f"below {high[0]}"
        return "a finite number"


def key(default: Any, doc: str, *, at_least: float | None = None, above: float | None = None,
        at_most: float | None = None, below: float | None = None, is_date: bool = False, **kwargs: Any) -> Any:
    """A config key: its default (REQUIRED: none), what it means (the reference and the schema read `doc`) and,
    for a number, its range (checked at load, for every element of a list); `is_date`: YYYY-MM-DD."""
    metadata: dict[str, Any] = {"doc": doc}
    if (at_least, above, at_most, below) != (None, None, None, None):
        metadata["range"] = Range(at_least, above, at_most, below)
    if is_date:
        metadata["date"] = True
    if default is REQUIRED:
        return field(metadata=metadata, **kwargs)
    if isinstance(default, (dict, list)):
        kind = type(default)
        return field(default_factory=kind, metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


# [data.<table>]: what each table's keys name. Roles map a column of the user's file to what it means.
TABLE_DOCS = {
    "customers": "One row per customer: attributes, and optionally a label to predict and a profit figure.",
    "transactions": "One row per purchase line (a receipt line, an order line, or a whole purchase).",
    "experiment": "One row per customer in the A/B test: the group, and optionally outcomes already computed.",
}
TABLE_ROLES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # table: ({required role: meaning}, {optional role: meaning})
    "customers": (
        {"id": "customer id column"},
        {"age": "age in years (values outside 0–110 become missing)",
         "gender": "gender; missing values are recovered by a model when [propensity] impute lists it",
         "city": "city (or region): a cut of the A/B readout and a filter for lists",
         "label": "the column a model predicts (e.g. activity: «Снизилась» / «Прежний уровень»); needs `positive`",
         "profit": "profit per customer; its unit is `profit_unit` (the report's currency when not set)",
         "consent": "may the customer be messaged (1/0, yes/no, да/нет); lists mark who may not (may_message)"}),
    "transactions": (
        {"customer_id": "customer id column", "date": "purchase date (formats detected, or set date_format)"},
        {"amount": "line amount (or give price and quantity)", "price": "price per item",
         "quantity": "number of items (amount = price × quantity when there is no amount)",
         "order_id": "order / receipt number; without it an order is a customer's purchases of one day",
         "category": "product category (portraits, offers, co-purchases); without it segments are named by "
                     "behaviour",
         "brand": "brand", "product": "product name (free text)",
         "promo": "bought on promotion: 1/0, yes/no, да/нет, true/false"}),
    "experiment": (
        {"customer_id": "customer id column", "group": "test group of the customer"},
        {"converted": "1/0: bought in the campaign window (else derived from transactions)",
         "revenue": "revenue in the campaign window (else derived from transactions)",
         "orders": "orders in the campaign window (else derived from transactions)",
         "pre_revenue": "revenue before the campaign: the CUPED covariate (else derived from transactions)"}),
}
# Where a table comes from and how its file is written; every key is optional but one of path / sql.
SOURCE_KEYS: dict[str, str] = {
    "path": "a file: CSV or other delimited text, Parquet, XLSX; relative to the config's folder",
    "sql": "a query instead of a file: DuckDB SQL over files, or the database's own SQL with `url`",
    "url": "postgresql://user@host:5432/db: run `sql` in PostgreSQL (password from PGPASSWORD)",
    "encoding": "text encoding (detected: UTF-8, UTF-8 with BOM, UTF-16 with BOM, cp1251)",
    "delimiter": "field separator: one character (\",\", \";\", \"|\", \"\\t\"), or \"whitespace\" for "
                 "columns aligned with runs of spaces (detected when not set; \" \" means whitespace too)",
    "sep": "the same as delimiter (older configs)",
    "decimal": "decimal mark of numbers: \".\" or \",\" (detected)",
    "thousands": "thousands separator inside numbers, e.g. \" \" (detected when it is a space)",
    "date_format": "date format in strftime codes, e.g. \"%d.%m.%Y\" or \"%Y%m%d\" (detected)",
    "sheet": "XLSX: the sheet's name or number (default: the first)",
}
# Keys of one table that are not columns: what a value means, how to treat a table.
TABLE_OPTIONS: dict[str, dict[str, tuple[str, str]]] = {
    # table: {key: (type, meaning)}
    "customers": {
        "positive": ("str", "the label's value that counts as the outcome (e.g. \"Снизилась\", \"yes\", \"1\")"),
        "positive_is": ("str", "what that outcome is for the business: \"bad\" (decline, churn: the list is who "
                               "to retain) or \"good\" (a purchase, a response: the list is who to contact); "
                               "without it the documents use neutral words (\"probability of «label = yes»\")"),
        "profit_unit": ("str", "the profit column's unit when not the report's currency (\"тыс. ₽\", \"points\")"),
    },
    "transactions": {
        "drop_duplicate_lines": ("bool", "drop lines identical in every column: true, or false to keep them "
                                         "(default: dropped when order ids exist, kept without them, where "
                                         "identical lines can be real repeat purchases; counted either way)"),
    },
    "experiment": {
        "control": ("str", "the control group's value (required unless a group is called control / контроль)"),
    },
}
POSITIVE_IS = ("bad", "good")
WHITESPACE = "whitespace"


@dataclass(frozen=True)
class TableSource:
    """Where one canonical table comes from and how its columns map to roles."""

    name: str
    path: Path | None
    sql: str | None
    url: str | None
    encoding: str | None
    sep: str | None  # the delimiter; WHITESPACE for runs of spaces and tabs
    decimal: str | None
    thousands: str | None
    date_format: str | None
    sheet: str | None
    roles: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)  # TABLE_OPTIONS keys the config set

    def column(self, role: str) -> str | None:
        return self.roles.get(role)

    def option(self, name: str) -> Any:
        return self.options.get(name)

    @property
    def label(self) -> str:
        """What errors call the source: the file's name, or the config section of a query."""
        return self.path.name if self.path is not None else f"SQL of [data.{self.name}]"


@dataclass(frozen=True)
class ReportConfig:
    title: str = key(REQUIRED, "the report's title, on every page and slide and in the e-mail subject")
    language: str = key("ru", "\"ru\" or \"en\": the documents' and the console's language")
    currency: str = key("₽", "the currency symbol amounts are shown in")
    output_dir: str = key("output", "where the documents go (relative to the config's folder)")
    keep_history: int = key(5, "earlier complete runs kept in output_dir/runs", at_least=0, at_most=1000)
    margin: float | None = key(None, "share of revenue that is profit (0–1). Without it (and without a profit "
                                     "column) the documents speak of revenue, never of profit", above=0, at_most=1)
    # Business names for what the data calls otherwise: group values, columns, dimensions ([report.names]).
    names: dict[str, str] = key({}, "[report.names]: display names for group values, columns and label values, "
                                    "e.g. { treatment = \"Autumn e-mail\", zip_code = \"Area type\" }")


@dataclass(frozen=True)
class ObservationalConfig:
    """A promo with no control group: which days were promo days."""

    name: str = key("promo", "what the documents call the promo")
    days_of_month: tuple[int, ...] = key((), "promo days as days of every month, e.g. [15]", at_least=1, at_most=31)
    dates: tuple[str, ...] = key((), "promo days as dates, e.g. [\"2026-05-09\"]", is_date=True)
    city: str | None = key(None, "only purchases of this city (the city column's value)")


@dataclass(frozen=True)
class ExperimentConfig:
    name: str | None = key(None, "the campaign's name (default: the report title)")
    start: str | None = key(None, "first day of the campaign window (YYYY-MM-DD); outcomes are counted from it",
                            is_date=True)
    end: str | None = key(None, "last day of the campaign window (YYYY-MM-DD)", is_date=True)
    metrics: tuple[str, ...] = key(("conversion", "average_check", "arpu", "orders_per_customer"),
                                   "metrics read out: conversion, average_check, arpu, orders_per_customer")
    primary: str = key("arpu", "the metric the verdict is about")
    confidence: float = key(0.95, "confidence level of the intervals (between 0.5 and 1)", above=0.5, below=1)
    cuped: bool = key(True, "variance reduction with pre-campaign behaviour (CUPED)")
    correction: str = key("holm", "multiple-testing correction: \"holm\", \"bh\" or \"none\"")
    family: str = key("all", "corrected together: \"all\" metrics × groups, or the \"primary\" metric × groups")
    power: float = key(0.8, "power at which the minimum detectable effect (MDE) is computed", above=0.05, below=1)
    min_effect: float = key(0.05, "relative effect the test is planned to detect", above=0, below=10)
    expected_split: tuple[tuple[str, float], ...] = key(
        (), "planned share of each group, e.g. { control = 0.1, email = 0.9 }; only these groups are compared "
            "(default: equal shares)")
    srm_alpha: float = key(0.001, "the sample-ratio check fails below this p-value", above=0, below=1)
    min_group_size: int = key(100, "a smaller group makes the test invalid", at_least=2)
    segment_by: tuple[str, ...] = key(("cluster", "rfm"), "cuts of the readout: cluster, rfm, or customer columns "
                                                         "(e.g. [\"cluster\", \"rfm\", \"city\"])")
    offer_type: str = key("discount", "the campaign's offer type: offers of this type get its measured effect")
    sequential: bool | str = key("auto", "\"auto\": a confidence sequence (valid however often the test is "
                                         "read) when it is read before its window ends or was so read before; "
                                         "else the fixed-horizon test, valid for one read at the end; true or "
                                         "false forces one")
    cap_revenue: float | None = key(None, "cap revenue outcomes at this percentile of the customers who bought, "
                                          "pooled over the groups and fixed before the comparison (e.g. 0.99)",
                                    at_least=0.5, below=1)
    observational: ObservationalConfig | None = key(None, "[experiment.observational]: a promo without a control")


@dataclass(frozen=True)
class RfmRule:
    name: str = key(REQUIRED, "segment name (the documents translate best, loyal, cant_lose, at_risk, new, promising, "
                          "lost; other names are shown as written)")
    r: tuple[int, int] = key((1, 5), "range of the recency score, 1 (lapsed) to 5 (bought within one purchase "
                                     "cycle)", at_least=1, at_most=5)
    f: tuple[int, int] = key((1, 5), "range of the frequency score, 1 (one order) to 5 (most orders)", at_least=1,
                             at_most=5)
    m: tuple[int, int] = key((1, 5), "range of the monetary score, 1 to 5 (quintiles of spend)", at_least=1,
                             at_most=5)


@dataclass(frozen=True)
class SegmentsConfig:
    k: int | str = key("auto", "number of clusters, or \"auto\" (silhouette with a stability check)")
    k_min: int = key(2, "smallest k tried", at_least=2, at_most=50)
    k_max: int = key(8, "largest k tried (widened up to 12 while the silhouette rises)", at_least=2, at_most=50)
    rfm: bool = key(True, "RFM segments")
    seeds: int = key(3, "KMeans runs per k for the stability check", at_least=1, at_most=50)
    minibatch_above: int = key(200_000, "MiniBatch KMeans beyond this many customers", at_least=1000)
    rfm_rules: tuple[RfmRule, ...] = key((), "[[segments.rfm_rules]]: your own RFM segments, first match wins")


@dataclass(frozen=True)
class PropensityConfig:
    score_filter: str | None = key(None, "which customers are scored for the list: an SQL condition over the "
                                         "customer table, e.g. \"city = 'Москва'\"")
    score_filter_name: str | None = key(None, "how the documents call those customers")
    threshold: float = key(0.9, "older configs: the same as cutoff = \"probability 0.9\"", above=0, below=1)
    cutoff: str | None = key(None, "who is on the list: \"top 500\", \"top 20%\", \"precision 0.9\" or "
                                   "\"probability 0.8\"")
    features_before: str | None = key(None, "YYYY-MM-DD: the label describes what happened from this date on, so "
                                            "the model sees only purchases before it", is_date=True)
    drop_outliers: bool = key(False, "leave revenue outliers and zero-activity customers out of the fit")
    horizon_days: int = key(90, "without a label: the target is no purchase in the last horizon_days", at_least=1,
                             at_most=3650)
    models: tuple[str, ...] = key(("logreg", "knn", "tree", "svc", "forest", "extra_trees", "boosting"),
                                  "candidate models")
    cv_folds: int = key(5, "cross-validation folds of the search", at_least=2, at_most=20)
    n_iter: int = key(6, "hyper-parameter draws per model", at_least=1, at_most=200)
    search_sample: int = key(4000, "customers the search runs on (stratified sample)", at_least=200)
    holdout_share: float = key(0.25, "share of customers held out for the honest check", at_least=0.05, at_most=0.5)
    impute: tuple[str, ...] = key(("gender",), "customer columns whose missing values are recovered by a model")
    exclude: tuple[str, ...] = key((), "columns left out of the model (e.g. ones known only after the label)")
    high_risk_quantile: float = key(0.75, "older configs; the segment to act on is now drawn from the list",
                                    above=0, below=1)
    seed: int = key(42, "random seed", at_least=0, below=2**32)


@dataclass(frozen=True)
class OfferRule:
    id: str = key(REQUIRED, "offer id; a default offer's id replaces it")
    type: str = key(REQUIRED, "offer type; the campaign's offer_type gets the A/B effect")
    ru: str = key(REQUIRED, "the offer in Russian; {top_category}, {top_brand}, {related}, {categories} are filled "
                        "from the segment (an offer naming one the data lack is not offered)")
    en: str = key(REQUIRED, "the offer in English")
    when: tuple[tuple[str, str, float], ...] = key((), "conditions that must all hold: [[\"promo_index\", \">=\", "
                                                       "1.3]]; evidence the data lack fails the offer")
    unless: tuple[tuple[str, str, float], ...] = key((), "conditions any of which rules the offer out; evidence "
                                                         "the data lack is not held against it")
    weight: float = key(1.0, "multiplies the evidence score: a fallback offer ranks below specific ones", above=0)
    priority: int = key(0, "offers of a higher priority come first whatever their score (win-back: 1)",
                        at_least=-100, at_most=100)


@dataclass(frozen=True)
class OffersConfig:
    min_customers: int = key(100, "a smaller segment gets offers only when it holds min_value_share of the value",
                             at_least=1)
    min_value_share: float = key(0.05, "a segment with at least this share of the customers' value gets offers "
                                       "however small it is", at_least=0, at_most=1)
    top_n: int = key(3, "offers per segment", at_least=1, at_most=20)
    min_support: float = key(0.01, "co-purchase pairs must occur in at least this share of orders", above=0, below=1)
    catch_all_categories: tuple[str, ...] = key(
        ("прочее", "прочие", "другое", "разное", "без категории", "other", "others", "misc", "miscellaneous",
         "uncategorized", "unknown"),
        "category values that pool what has no category (matched ignoring case): never the focus of an offer")
    catalogue: tuple[OfferRule, ...] = key((), "[[offers.catalogue]]: offers of your own")


@dataclass(frozen=True)
class UpliftConfig:
    """Whom to contact next time: an uplift model per treatment arm, learned from the experiment."""

    enabled: bool = key(True, "learn whom to contact next time from the test")
    outcome: str = key("", "\"conversion\", \"revenue\" or \"orders\" (default: the primary metric's)")
    cost_per_contact: float = key(0.0, "cost of one contact, in the report's currency", at_least=0)
    margin: float | None = key(None, "share of revenue that is profit (default: [report] margin; without either "
                                     "the decision weighs revenue, and says so)", above=0, at_most=1)
    value_per_conversion: float | None = key(None, "money per extra buyer (default: the arm's revenue per buyer)",
                                              above=0)
    score_filter: str | None = key(None, "the customers the list is for (SQL over the customer table)")
    score_filter_name: str | None = key(None, "how the documents call them")
    models: tuple[str, ...] = key(("t_linear", "t_spline", "t_boosting", "x_learner", "transformed_outcome"),
                                  "candidate uplift learners")
    folds: int = key(4, "cross-fitting folds", at_least=2, at_most=10)
    bootstrap: int = key(200, "bootstrap draws for the bands", at_least=50, at_most=2000)
    seed: int = key(42, "random seed", at_least=0, below=2**32)
    max_customers: int = key(200_000, "customers per arm comparison the models learn from (above: a sample "
                                      "stratified by group and outcome; the list scores everyone)", at_least=2_000)


@dataclass(frozen=True)
class LifetimeConfig:
    """What each customer is worth from purchases alone (BG/NBD + Gamma-Gamma)."""

    enabled: bool = key(True, "P(alive), expected purchases and value per customer whenever purchases exist")
    horizon_days: int = key(365, "the horizon of expected purchases and value, in days", at_least=28,
                             at_most=3650)
    p_alive_cut: float = key(0.5, "slipping away: repeat customers of high past spend with P(alive) below this",
                              above=0, below=1)


@dataclass(frozen=True)
class EngineConfig:
    """Where the heavy SQL runs, and how many customers the local models are fitted on."""

    kind: str = key("duckdb", "\"duckdb\" (embedded, default), \"spark\" or \"postgres\"")
    master: str | None = key(None, "Spark: local[2], spark://host:7077, yarn, …; else SPARK_MASTER")
    url: str | None = key(None, "PostgreSQL: postgresql://user@host:5432/db (password from PGPASSWORD)")
    conf: tuple[tuple[str, str], ...] = key((), "[engine.conf]: Spark settings, e.g. \"spark.driver.memory\" = "
                                                "\"6g\"")
    sample_size: int = key(200_000, "KMeans and the final model fit use at most this many customers",
                            at_least=1000)
    memory_limit: str | None = key(None, "DuckDB: e.g. \"4GB\", spilling to disk beyond (default: 25 % of RAM, ≤ 2 GB)")
    read_folders: tuple[str, ...] = key((), "DuckDB: folders an `sql` source may read files from, besides the "
                                            "config's folder and the folders of the tables' `path`s (DuckDB reads "
                                            "nothing else, e.g. [\"${DATA:-/srv/exports}\"])")


@dataclass(frozen=True)
class EmailConfig:
    to: tuple[str, ...] = key((), "recipients")
    smtp_host: str = key("localhost", "SMTP server")
    smtp_port: int = key(587, "SMTP port", at_least=1, at_most=65535)
    security: str = key("starttls", "\"starttls\", \"ssl\" or \"none\"")
    username: str | None = key(None, "SMTP login; the password comes from the SMTP_PASSWORD environment variable")
    sender: str | None = key(None, "From address (the key is `from`; default: username)")
    attach_target_list: bool = key(False, "attach the target list CSV")
    verify_tls: bool = key(True, "check the server's certificate")
    retries: int = key(3, "attempts per send", at_least=1, at_most=20)
    backoff_seconds: float = key(2.0, "wait before the first retry, doubled after each", at_least=0, at_most=3600)


@dataclass(frozen=True)
class Config:
    path: Path
    report: ReportConfig
    tables: dict[str, TableSource]
    experiment: ExperimentConfig | None
    segments: SegmentsConfig | None
    propensity: PropensityConfig | None
    offers: OffersConfig
    engine: EngineConfig
    email: EmailConfig | None
    uplift: UpliftConfig = field(default_factory=UpliftConfig)
    lifetime: LifetimeConfig = field(default_factory=LifetimeConfig)
    digest: str = field(default="", compare=False)
    defaults_applied: tuple[str, ...] = ()  # codes of sections run with defaults although not configured
    shown_path: str = field(default="config.toml", compare=False)  # the config file as the user named it

    @property
    def output_dir(self) -> Path:
        return (self.path.parent / self.report.output_dir).resolve()

    @property
    def read_folders(self) -> list[Path]:
        """The folders DuckDB may read: the config's, each table file's, and [engine] read_folders."""
        folders = [self.path.parent.resolve()]
        folders += [t.path.parent for t in self.tables.values() if t.path is not None]
        folders += [Path(folder) for folder in self.engine.read_folders]
        return folders

    @property
    def margin(self) -> float | None:
        """The stated share of revenue that is profit, if any: [uplift] margin, else [report] margin."""
        return self.uplift.margin if self.uplift.margin is not None else self.report.margin
