"""The one typed, frozen Results object that renderers read. Raw numbers and data strings only."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field

import pandas as pd

from campaign_report.analysis.customers.lifetime import LifetimeResult
from campaign_report.analysis.customers.rfm import RfmResult
from campaign_report.analysis.customers.segments import SegmentsResult
from campaign_report.analysis.data.clean import TableQuality
from campaign_report.analysis.data.load import InputFile
from campaign_report.analysis.experiment.result import ExperimentResult
from campaign_report.analysis.history.result import HistoryResult
from campaign_report.analysis.meaning import DataMeaning
from campaign_report.analysis.model.propensity import PropensityResult
from campaign_report.analysis.offers.recommend import OffersResult
from campaign_report.analysis.tables import Tabular, records_frame
from campaign_report.analysis.uplift.result import UpliftResult

SECTIONS = ("experiment", "segments", "rfm", "lifetime", "propensity", "offers", "uplift", "history")


@dataclass(frozen=True)
class Meta:
    title: str
    language: str
    currency: str
    created: str
    config_hash: str
    inputs: tuple[InputFile, ...]
    versions: dict[str, str]
    as_of: str | None
    n_customers: int
    engine: str = "duckdb"  # where the purchase lines were aggregated: "duckdb" or "spark local[2]"
    names: dict[str, str] = field(default_factory=dict)  # [report.names]: display names of data values/columns
    # What the run did other than configured, as (code, detail): defaults applied, configured parts skipped.
    run_notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Results:
    meta: Meta
    meaning: DataMeaning  # what the inputs mean: every analysis and sentence reads it
    data_quality: tuple[TableQuality, ...]
    experiment: ExperimentResult | None
    segments: SegmentsResult | None
    rfm: RfmResult | None
    propensity: PropensityResult | None
    offers: OffersResult | None
    # The scored population (target_list.csv); not part of results.json, which has its summary.
    target_list: pd.DataFrame | None = field(default=None, repr=False, compare=False,
                                             metadata={"json": False})
    uplift: UpliftResult | None = None
    # The uplift-ranked customers (uplift_list.csv); results.json has its summary in uplift.list.
    uplift_list: pd.DataFrame | None = field(default=None, repr=False, compare=False, metadata={"json": False})
    lifetime: LifetimeResult | None = None
    # Every customer's P(alive), expected purchases and value (customer_value.csv).
    customer_value: pd.DataFrame | None = field(default=None, repr=False, compare=False, metadata={"json": False})
    # Every campaign read into this output folder, this one included (results.json `history.campaigns`).
    history: HistoryResult | None = None

    def sections(self) -> dict[str, Tabular]:
        """The analyses that ran, by name."""
        return {name: getattr(self, name) for name in SECTIONS if getattr(self, name) is not None}

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every table of every section as `section.table` (e.g. `experiment.metrics`)."""
        out = {f"{name}.{table}": frame for name, section in self.sections().items()
               for table, frame in section.frames().items()}
        out["data_quality.tables"] = pd.DataFrame([{k: v for k, v in dataclasses.asdict(q).items() if k != "issues"}
                                                   for q in self.data_quality])
        out["data_quality.issues"] = pd.DataFrame([{"table": q.name, **dataclasses.asdict(i)}
                                                   for q in self.data_quality for i in q.issues])
        out["meta.inputs"] = records_frame(self.meta.inputs)
        if self.target_list is not None:
            out["target_list"] = self.target_list
        if self.uplift_list is not None:
            out["uplift_list"] = self.uplift_list
        if self.customer_value is not None:
            out["customer_value"] = self.customer_value
        return out

    def to_frame(self, name: str) -> pd.DataFrame:
        """One table by its `section.table` name (see `frames()`), or `target_list`."""
        frames = self.frames()
        if name in frames:
            return frames[name]
        if name in self.sections():
            return self.sections()[name].to_frame()
        raise KeyError(f"no table {name!r}; tables: {', '.join(frames)}")

    def _repr_html_(self) -> str:
        """Outside IPython's formatter (campaign_report registers the documents' view there): a plain index."""
        ran = ", ".join(self.sections()) or "data quality only"
        parts = [f"<h3>{html.escape(self.meta.title)}</h3>",
                 f"<p>{self.meta.n_customers:,} customers · as of {html.escape(str(self.meta.as_of or '—'))} · "
                 f"analyses: {html.escape(ran)}</p>"]
        parts += [section._repr_html_() for section in self.sections().values()]
        return "\n".join(parts)
