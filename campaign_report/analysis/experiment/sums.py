"""Sufficient statistics of an experiment, aggregated by the engine: per group, and per group × segment.

For the six per-customer outcomes (converted, orders, revenue and their pre-period twins) the engine
returns n, Σx and Σxxᵀ. Every metric of the readout (a ratio of means, with a CUPED covariate) is a
choice of four of them, so the whole readout, segment cuts included, needs one small aggregate query
and never the per-customer rows: the same numbers from DuckDB on a laptop and from Spark on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from campaign_report.analysis.engines.base import Engine
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine

OUTCOMES = ("converted", "orders", "revenue", "pre_converted", "pre_orders", "pre_revenue")


@dataclass(frozen=True)
class CellSums:
    """n, Σx and Σxxᵀ of OUTCOMES for one group (or one group within one segment)."""

    n: int
    sums: tuple[float, ...]
    cross: tuple[tuple[float, ...], ...]

    def augmented(self) -> tuple[np.ndarray, np.ndarray]:
        """Sums and cross products with a constant 1 in front (index 0), for metrics without denominator."""
        s = np.concatenate([[float(self.n)], np.asarray(self.sums, dtype=float)])
        c = np.empty((7, 7))
        c[0, 0] = self.n
        c[0, 1:] = c[1:, 0] = self.sums
        c[1:, 1:] = np.asarray(self.cross, dtype=float)
        return s, c

    def mean(self, outcome: str) -> float:
        return self.sums[OUTCOMES.index(outcome)] / self.n if self.n else float("nan")


@dataclass(frozen=True)
class ExperimentSums:
    groups: dict[str, CellSums]
    segments: dict[tuple[str, str], dict[str, CellSums]]  # (dimension, segment) -> group -> sums


def _cell(row: pd.Series) -> CellSums:
    k = len(OUTCOMES)
    cross = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            cross[i, j] = cross[j, i] = float(row[f"x_{i}_{j}"])
    return CellSums(n=int(row["n"]), sums=tuple(float(row[f"s_{i}"]) for i in range(k)),
                    cross=tuple(tuple(float(v) for v in r) for r in cross))


def experiment_sums(engine: Engine, units: str, labels: str | None = None) -> ExperimentSums:
    """Aggregate the per-customer outcome view `units` (customer_id, grp, OUTCOMES); `labels` is an
    optional engine table (customer_id, dimension, segment) for the per-segment cuts."""
    k = len(OUTCOMES)
    aggs = ["count(*) AS n"] + [f"sum({c}) AS s_{i}" for i, c in enumerate(OUTCOMES)]
    aggs += [f"sum({OUTCOMES[i]} * {OUTCOMES[j]}) AS x_{i}_{j}" for i in range(k) for j in range(i, k)]
    query = (f"SELECT CAST(grp AS VARCHAR) AS grp, CAST(NULL AS VARCHAR) AS dimension, "
             f"CAST(NULL AS VARCHAR) AS segment, {', '.join(aggs)} FROM {units} GROUP BY grp")
    if labels is not None:
        query += (f" UNION ALL SELECT CAST(u.grp AS VARCHAR), l.dimension, l.segment, {', '.join(aggs)} "
                  f"FROM {units} u JOIN {labels} l ON l.customer_id = u.customer_id "
                  f"GROUP BY u.grp, l.dimension, l.segment")
    frame = engine.frame(query)
    groups: dict[str, CellSums] = {}
    segments: dict[tuple[str, str], dict[str, CellSums]] = {}
    for _, row in frame.iterrows():
        if pd.isna(row["dimension"]):
            groups[str(row["grp"])] = _cell(row)
        else:
            segments.setdefault((str(row["dimension"]), str(row["segment"])), {})[str(row["grp"])] = _cell(row)
    return ExperimentSums(groups=groups, segments=segments)


def sums_from_frame(units: pd.DataFrame, segments: dict[str, pd.Series] | None = None) -> ExperimentSums:
    """The same aggregates for a local frame of units (tests, simulations), through embedded DuckDB."""
    engine = DuckDBEngine()
    try:
        frame = units.copy()
        for col in OUTCOMES:
            if col not in frame:
                frame[col] = 0.0
        frame["grp"] = frame["grp"].astype(str)
        frame["customer_id"] = frame["customer_id"].astype(str)
        engine.register("units", frame[["customer_id", "grp", *OUTCOMES]])
        labels = segment_labels(segments or {})
        if labels is not None:
            engine.register("labels", labels)
        return experiment_sums(engine, "units", "labels" if labels is not None else None)
    finally:
        engine.close()


def segment_labels(segments: dict[str, pd.Series]) -> pd.DataFrame | None:
    """Long table (customer_id, dimension, segment) from one label series per dimension (index = id)."""
    parts = [pd.DataFrame({"customer_id": labels.index.astype(str), "dimension": dimension,
                           "segment": labels.astype(str).to_numpy()})[labels.notna().to_numpy()]
             for dimension, labels in segments.items()]
    return pd.concat(parts, ignore_index=True) if parts else None
