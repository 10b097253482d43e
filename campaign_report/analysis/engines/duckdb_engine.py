"""The default engine: embedded DuckDB, running the analysis SQL as written."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from campaign_report.analysis.engines.base import (
    SCORE_BATCH_ROWS,
    Engine,
    EngineError,
    engine_message,
    first_line,
    sql_literal,
    transcode,
)
from campaign_report.analysis.engines.sql_guard import folders_read
from campaign_report.analysis.errors import ConfigError

DEFAULT_MEMORY_SHARE = 0.25  # of the machine's memory, at most the cap: the rest is for pandas and the models
DEFAULT_MEMORY_CAP_GB = 2


def default_memory_limit() -> str | None:
    """DuckDB's budget when the config sets none: 25 % of the machine's memory, at most 2 GB, spilling beyond it
    (DuckDB's own default, 80 %, leaves nothing for the rest of the run). None where the memory is unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return f"{max(0.5, min(DEFAULT_MEMORY_CAP_GB, total * DEFAULT_MEMORY_SHARE / 2**30)):.1f}GB"


class DuckDBEngine(Engine):
    kind = "duckdb"

    @property
    def description(self) -> str:
        return f"DuckDB {duckdb.__version__}"

    def __init__(self, search_path: Path | None = None, memory_limit: str | None = None,
                 read_folders: Sequence[Path] | None = None) -> None:
        """`read_folders`: the only folders DuckDB may read (and nothing it may install, load or reconfigure
        afterwards); None leaves file access open, for code that writes its own queries (tests, benches)."""
        self.con = duckdb.connect()
        self._spill: Path | None = None
        if search_path is not None:
            self.execute(f"SET file_search_path = {sql_literal(str(search_path))}")
        memory_limit = memory_limit or default_memory_limit()
        if memory_limit:
            try:
                self.con.execute(f"SET memory_limit = {sql_literal(memory_limit)}").fetchall()
            except duckdb.Error as exc:
                raise ConfigError(f"[engine] memory_limit: {first_line(exc)}") from None
            # An in-memory database spills to a temporary folder once the limit is reached.
            self._spill = Path(tempfile.mkdtemp(prefix="campaign-report-spill-"))
            self.execute(f"SET temp_directory = {sql_literal(str(self._spill))}")
        self.read_folders = folders_read([*read_folders, *([self._spill] if self._spill else [])]) \
            if read_folders is not None else None
        if self.read_folders is not None:
            listed = ", ".join(sql_literal(folder) for folder in self.read_folders)
            self.execute(f"SET allowed_directories = [{listed}]")
            self.execute("SET enable_external_access = false")
            self.execute("SET autoinstall_known_extensions = false")
            self.execute("SET lock_configuration = true")

    def _run(self, query: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(query)
        except duckdb.Error as exc:
            raise EngineError(self._message(exc)) from None

    def _message(self, exc: Exception) -> str:
        """The engine's message; a file outside the folders the config names is said as such."""
        denied = re.search(r'Cannot access (?:file|directory) "([^"]*)"', str(exc))
        if denied and self.read_folders is not None and "disabled by configuration" in str(exc):
            return (f"reading {denied.group(1)} is not allowed: DuckDB reads only the config's folder, the "
                    "tables' folders and [engine] read_folders (add the file's folder there)")
        return engine_message(exc)

    def execute(self, query: str) -> None:
        # Always read to the end: a half-read DuckDB result blocks register().
        self._run(query).fetchall()

    def rows(self, query: str) -> list[tuple]:
        return self._run(query).fetchall()

    def frame(self, query: str) -> pd.DataFrame:
        return self._run(query).df()

    def schema(self, query: str) -> dict[str, str]:
        try:
            rel = self.con.sql(query)
        except duckdb.Error as exc:
            raise EngineError(self._message(exc)) from None
        return {name: str(kind) for name, kind in zip(rel.columns, rel.types, strict=True)}

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def table(self, name: str, query: str) -> None:
        self.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")

    def drop(self, name: str) -> None:
        kind = self.rows(f"SELECT table_type FROM information_schema.tables WHERE table_name = {sql_literal(name)}")
        if not kind:
            return
        if kind[0][0] == "VIEW":
            try:
                self.con.unregister(name)
                return
            except duckdb.Error:
                pass
            self.execute(f"DROP VIEW IF EXISTS {name}")
        else:
            self.execute(f"DROP TABLE IF EXISTS {name}")

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        return f"CAST(TRY_STRPTIME({text_expr}, {sql_literal(strftime_format)}) AS DATE)"

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path, parallel: bool = True) -> bool:
        readable = path if encoding == "utf-8" else transcode(path, encoding, workdir)
        self.view(name, f"SELECT *, row_number() OVER () + 1 AS _line FROM read_csv({sql_literal(str(readable))}, "
                        f"delim={sql_literal(sep)}, header=true, all_varchar=true, quote='\"', escape='\"', "
                        f"strict_mode=false, null_padding=true, parallel={str(parallel).lower()})")
        return False

    def read_parquet(self, name: str, path: Path) -> bool:
        self.view(name, f"SELECT * EXCLUDE (file_row_number), file_row_number + 2 AS _line "
                        f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true)")
        return False

    def read_sql(self, name: str, query: str) -> bool:
        try:
            rel = self.con.sql(query)
        except duckdb.Error as exc:
            raise EngineError(self._message(exc)) from None
        self.table(name, f"SELECT *, row_number() OVER () + 1 AS _line FROM ({rel.sql_query()})")
        return False

    def line_number(self, table: str, ordinal: int) -> int:
        return int(ordinal)

    def batches(self, query: str) -> Iterator[pd.DataFrame]:
        """The query's rows as frames of about SCORE_BATCH_ROWS (no pyarrow needed)."""
        result = self._run(query)
        vectors = max(1, SCORE_BATCH_ROWS // 2048)  # DuckDB hands out rows in vectors of 2,048
        while True:
            chunk = result.fetch_df_chunk(vectors)
            if chunk.empty:
                return
            yield chunk

    def score(self, query: str, id_column: str, predict: Callable[[pd.DataFrame], np.ndarray]) -> pd.DataFrame:
        parts = []
        for chunk in self.batches(query):
            parts.append(pd.DataFrame({"id": chunk[id_column].to_numpy(), "score": predict(chunk)}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"id": [], "score": []})

    def close(self) -> None:
        self.con.close()
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
