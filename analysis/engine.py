"""Where the heavy SQL runs: embedded DuckDB (the default) or Spark, from one SQL text.

Every query in analysis/ is written once, in DuckDB's dialect. DuckDBEngine runs it as written;
SparkEngine parses it with sqlglot (the SQL compiler Ibis is built on) and generates Spark SQL. What
differs between engines and is not SQL (reading files, registering a pandas frame, materialising a
table, batch scoring, date formats) lives behind the small interface below, so the analysis modules
have no engine-specific branches. Results that come back are aggregates or one row per customer,
never purchase lines.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analysis.config import EngineConfig
from analysis.errors import ConfigError

SCORE_BATCH_ROWS = 200_000


@dataclass(frozen=True)
class ProbabilityScorer:
    """A fitted classifier and its input columns: picklable, so Spark executors can run it."""

    model: Any
    columns: tuple[str, ...]

    def __call__(self, chunk: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(chunk[list(self.columns)])[:, 1]


class EngineError(Exception):
    """A query the engine rejected; the message is the engine's first line."""


def first_line(exc: Exception) -> str:
    """The engine's message without its stack trace (Spark and PostgreSQL add many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def sql_literal(text: str) -> str:
    """A string value quoted for SQL (category names like «Детские товары» or O'Neill)."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(identifier: str) -> str:
    """A column or table name quoted for SQL (names come from users' files)."""
    return '"' + identifier.replace('"', '""') + '"'


def translate_date_format(strftime_format: str, codes: dict[str, str], quote: str, engine: str) -> str:
    """A strftime pattern in another engine's pattern language: each %-code mapped, literal letters quoted
    (letters are fields in Java and PostgreSQL patterns), a quote character doubled."""
    out, i = [], 0
    while i < len(strftime_format):
        ch = strftime_format[i]
        if ch == "%" and i + 1 < len(strftime_format):
            code = strftime_format[i + 1]
            if code not in codes:
                raise ConfigError(f"config.toml: date_format code %{code} is not supported on {engine}")
            out.append(codes[code])
            i += 2
            continue
        out.append(f"{quote}{ch}{quote}" if ch.isalpha() else (quote * 2 if ch == quote else ch))
        i += 1
    return "".join(out)


class Engine:
    """The operations analysis/ needs from an engine. Queries are DuckDB-dialect SQL."""

    kind = "abstract"

    @property
    def description(self) -> str:
        """What the documents say the purchase lines were aggregated by."""
        return self.kind

    def execute(self, query: str) -> None:
        raise NotImplementedError

    def rows(self, query: str) -> list[tuple]:
        raise NotImplementedError

    def frame(self, query: str) -> pd.DataFrame:
        raise NotImplementedError

    def scalar(self, query: str) -> Any:
        return self.rows(query)[0][0]

    def schema(self, query: str) -> dict[str, str]:
        """Column name -> type, spelled as DuckDB does (VARCHAR, DOUBLE, DATE, DECIMAL(18,2), ...)."""
        raise NotImplementedError

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Make a local frame queryable as `name` (small tables: customers, assignment, labels)."""
        raise NotImplementedError

    def view(self, name: str, query: str) -> None:
        self.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {query}")

    def table(self, name: str, query: str) -> None:
        """Materialise a query: it is read many times (the cleaned purchase lines)."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        """SQL turning text into a DATE (NULL where it does not parse)."""
        raise NotImplementedError

    def try_double(self, text_expr: str) -> str:
        """SQL turning text into a DOUBLE (NULL where it does not parse)."""
        return f"TRY_CAST({text_expr} AS DOUBLE)"

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path) -> bool:
        """View `name` over a CSV: every column text, plus `_line`. True when `_line` is an ordinal
        that `line_number` must translate, False when it is the line number itself."""
        raise NotImplementedError

    def read_parquet(self, name: str, path: Path) -> bool:
        raise NotImplementedError

    def read_sql(self, name: str, query: str) -> bool:
        """Table `name` with `_line` from a query in the engine's own dialect (a warehouse table, files)."""
        raise NotImplementedError

    def line_number(self, table: str, ordinal: int) -> int:
        """The file line (header = 1) of the row whose `_line` ordinal is given."""
        before = self.scalar(f"SELECT count(*) FROM {table} WHERE _line < {int(ordinal)}")
        return int(before) + 2

    def score(self, query: str, id_column: str, predict: Callable[[pd.DataFrame], np.ndarray]) -> pd.DataFrame:
        """(id, score) for every row of `query`, predicted in batches where the rows are."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class DuckDBEngine(Engine):
    kind = "duckdb"

    @property
    def description(self) -> str:
        return f"DuckDB {duckdb.__version__}"

    def __init__(self, search_path: Path | None = None, memory_limit: str | None = None) -> None:
        self.con = duckdb.connect()
        self._spill: Path | None = None
        if search_path is not None:
            self.execute(f"SET file_search_path = {sql_literal(str(search_path))}")
        if memory_limit is not None:
            try:
                self.con.execute(f"SET memory_limit = {sql_literal(memory_limit)}").fetchall()
            except duckdb.Error as exc:
                raise ConfigError(f"config.toml: [engine] memory_limit: {first_line(exc)}") from None
            # An in-memory database spills to a temporary folder once the limit is reached.
            self._spill = Path(tempfile.mkdtemp(prefix="campaign-report-spill-"))
            self.execute(f"SET temp_directory = {sql_literal(str(self._spill))}")

    def _run(self, query: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(query)
        except duckdb.Error as exc:
            raise EngineError(first_line(exc)) from None

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
            raise EngineError(first_line(exc)) from None
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

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path) -> bool:
        readable = path if encoding == "utf-8" else transcode(path, encoding, workdir)
        self.view(name, f"SELECT *, row_number() OVER () + 1 AS _line FROM read_csv({sql_literal(str(readable))}, "
                        f"delim={sql_literal(sep)}, header=true, all_varchar=true, quote='\"', escape='\"', "
                        f"strict_mode=false, null_padding=true)")
        return False

    def read_parquet(self, name: str, path: Path) -> bool:
        self.view(name, f"SELECT * EXCLUDE (file_row_number), file_row_number + 2 AS _line "
                        f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true)")
        return False

    def read_sql(self, name: str, query: str) -> bool:
        try:
            rel = self.con.sql(query)
        except duckdb.Error as exc:
            raise EngineError(first_line(exc)) from None
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


def transcode(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only without extensions: re-encode cp1251 (and BOM) files, streaming."""
    target = workdir / (path.stem + ".utf8.csv")
    with open(path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return target


def open_engine(settings: EngineConfig, search_path: Path | None = None) -> Engine:
    """The engine the config names; Spark's master comes from the config or SPARK_MASTER."""
    if settings.kind == "spark":
        from analysis.engine_spark import SparkEngine

        master = settings.master or os.environ.get("SPARK_MASTER") or "local[*]"
        return SparkEngine(master, dict(settings.conf))
    if settings.kind == "postgres":
        from analysis.engine_postgres import PostgresEngine

        assert settings.url is not None, "config validation requires url for postgres"
        return PostgresEngine(settings.url)
    return DuckDBEngine(search_path, settings.memory_limit)
