"""The typed, frozen settings a config.toml is read into (parsed and validated by `config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TABLE_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # table: (required roles, optional roles)
    "customers": (("id",), ("age", "gender", "city", "label", "positive", "profit")),
    "transactions": (("customer_id", "date"),
                     ("amount", "price", "quantity", "order_id", "category", "brand", "product", "promo")),
    "experiment": (("customer_id", "group"), ("control", "converted", "revenue", "orders", "pre_revenue")),
}
SOURCE_KEYS = ("path", "sql", "url", "encoding", "sep", "decimal", "thousands", "date_format", "sheet")


@dataclass(frozen=True)
class TableSource:
    """Where one canonical table comes from and how its columns map to roles."""

    name: str
    path: Path | None
    sql: str | None
    url: str | None
    encoding: str | None
    sep: str | None
    decimal: str | None
    thousands: str | None
    date_format: str | None
    sheet: str | None
    roles: dict[str, str]

    def column(self, role: str) -> str | None:
        return self.roles.get(role)


@dataclass(frozen=True)
class ReportConfig:
    title: str
    language: str = "ru"
    currency: str = "₽"
    output_dir: str = "output"
    keep_history: int = 5
    # Business names for what the data calls otherwise: group values, columns, dimensions ([report.names]).
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservationalConfig:
    """A promo with no control group: which days were promo days."""

    name: str = "promo"
    days_of_month: tuple[int, ...] = ()
    dates: tuple[str, ...] = ()
    city: str | None = None


@dataclass(frozen=True)
class ExperimentConfig:
    start: str | None = None
    end: str | None = None
    metrics: tuple[str, ...] = ("conversion", "average_check", "arpu", "orders_per_customer")
    primary: str = "arpu"
    confidence: float = 0.95
    cuped: bool = True
    correction: str = "holm"
    family: str = "all"  # the correction family: "all" metrics × arms, or "primary" metric × arms
    power: float = 0.8
    min_effect: float = 0.05
    expected_split: tuple[tuple[str, float], ...] = ()  # (group, planned share); only these are compared
    srm_alpha: float = 0.001
    min_group_size: int = 100
    segment_by: tuple[str, ...] = ("cluster", "rfm")
    offer_type: str = "discount"
    observational: ObservationalConfig | None = None


@dataclass(frozen=True)
class RfmRule:
    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)


@dataclass(frozen=True)
class SegmentsConfig:
    k: int | str = "auto"
    k_min: int = 2
    k_max: int = 8
    rfm: bool = True
    seeds: int = 3
    minibatch_above: int = 200_000
    rfm_rules: tuple[RfmRule, ...] = ()


@dataclass(frozen=True)
class PropensityConfig:
    score_filter: str | None = None
    score_filter_name: str | None = None  # how the documents call the scored population ("клиенты Новосибирска")
    threshold: float = 0.9  # older configs: the same as cutoff = "probability 0.9"
    cutoff: str | None = None  # who is on the list: "top 500", "top 20%", "precision 0.9", "probability 0.8"
    drop_outliers: bool = False  # leave revenue outliers and zero-activity customers out of the model's fit
    horizon_days: int = 90
    models: tuple[str, ...] = ("logreg", "knn", "tree", "svc", "forest", "extra_trees", "boosting")
    cv_folds: int = 5
    n_iter: int = 6
    search_sample: int = 4000
    holdout_share: float = 0.25
    impute: tuple[str, ...] = ("gender",)
    exclude: tuple[str, ...] = ()
    high_risk_quantile: float = 0.75
    seed: int = 42


@dataclass(frozen=True)
class OfferRule:
    id: str
    type: str
    ru: str
    en: str
    when: tuple[tuple[str, str, float], ...] = ()  # all must hold; evidence the data lack fails the rule
    unless: tuple[tuple[str, str, float], ...] = ()  # any rules the offer out; evidence the data lack is not held
    weight: float = 1.0  # multiplies the evidence score: a fallback offer ranks below specific ones


@dataclass(frozen=True)
class OffersConfig:
    min_customers: int = 100
    top_n: int = 3
    min_support: float = 0.01
    catalogue: tuple[OfferRule, ...] = ()


@dataclass(frozen=True)
class UpliftConfig:
    """Whom to contact next time: an uplift model per treatment arm, learned from the experiment."""

    enabled: bool = True
    outcome: str = ""  # "" = the primary metric's outcome; "conversion" | "revenue" | "orders"
    cost_per_contact: float = 0.0  # in the report's currency
    margin: float = 1.0  # share of revenue that is profit
    value_per_conversion: float | None = None  # money per extra conversion; default: the arm's revenue per buyer
    score_filter: str | None = None  # the customers the list is for (SQL over the customer table)
    score_filter_name: str | None = None
    models: tuple[str, ...] = ("t_linear", "t_spline", "t_boosting", "x_learner", "transformed_outcome")
    folds: int = 4
    bootstrap: int = 200
    seed: int = 42


@dataclass(frozen=True)
class EngineConfig:
    """Where the heavy SQL runs, and how many customers the local models are fitted on."""

    kind: str = "duckdb"
    master: str | None = None  # Spark: local[2], spark://host:7077, yarn, ...; else SPARK_MASTER
    url: str | None = None  # PostgreSQL: postgresql://user@host:5432/db (password from PGPASSWORD)
    conf: tuple[tuple[str, str], ...] = ()  # Spark settings, e.g. spark.driver.memory = "6g"
    sample_size: int = 200_000  # KMeans and the final propensity fit use at most this many customers
    memory_limit: str | None = None  # DuckDB: e.g. "4GB"; beyond it DuckDB spills to disk (default: 80 % of RAM)


@dataclass(frozen=True)
class EmailConfig:
    to: tuple[str, ...] = ()
    smtp_host: str = "localhost"
    smtp_port: int = 587
    security: str = "starttls"
    username: str | None = None
    sender: str | None = None
    attach_target_list: bool = False
    verify_tls: bool = True
    retries: int = 3
    backoff_seconds: float = 2.0


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
    digest: str = field(default="", compare=False)
    defaults_applied: tuple[str, ...] = ()  # codes of sections run with defaults although not configured

    @property
    def output_dir(self) -> Path:
        return (self.path.parent / self.report.output_dir).resolve()
