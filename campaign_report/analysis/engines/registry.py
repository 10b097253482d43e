"""Which engine a config names. The base module knows no subclass; this one imports them on demand."""

from __future__ import annotations

import os
from pathlib import Path

from campaign_report.analysis.config import EngineConfig
from campaign_report.analysis.engines.base import Engine


def open_engine(settings: EngineConfig, search_path: Path | None = None,
                read_folders: list[Path] | None = None) -> Engine:
    """The engine the config names; Spark's master comes from the config or SPARK_MASTER. DuckDB reads only
    `read_folders` (when given)."""
    if settings.kind == "spark":
        from campaign_report.analysis.engines.spark_engine import SparkEngine

        master = settings.master or os.environ.get("SPARK_MASTER") or "local[*]"
        return SparkEngine(master, dict(settings.conf))
    if settings.kind == "postgres":
        from campaign_report.analysis.engines.postgres_engine import PostgresEngine

        assert settings.url is not None, "config validation requires url for postgres"
        return PostgresEngine(settings.url)
    from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine(search_path, settings.memory_limit, read_folders)
