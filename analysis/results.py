"""The one typed, frozen Results object that renderers read. Raw numbers and data strings only."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.clean import TableQuality
from analysis.experiment import ExperimentResult
from analysis.load import InputFile
from analysis.offers import OffersResult
from analysis.propensity import PropensityResult
from analysis.rfm import RfmResult
from analysis.segments import SegmentsResult


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


@dataclass(frozen=True)
class Results:
    meta: Meta
    data_quality: tuple[TableQuality, ...]
    experiment: ExperimentResult | None
    segments: SegmentsResult | None
    rfm: RfmResult | None
    propensity: PropensityResult | None
    offers: OffersResult | None
