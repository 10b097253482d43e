"""PostgreSQL as the engine: DuckDB-dialect SQL transpiled by sqlglot, tables as session temp tables.

Tables already in the database are read with `sql = "SELECT …"` and never leave it; files beside the
tool are read by embedded DuckDB and streamed in with COPY, a batch at a time. Parsing that must not
fail on a bad value (numbers, dates) goes through two pg_temp functions, because PostgreSQL has no
TRY_CAST and its to_date accepts '31.02.2026'.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from campaign_report.analysis.engines.base import (
    SCORE_BATCH_ROWS,
    Engine,
    EngineError,
    first_line,
    sql_literal,
    translate_date_format,
)
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.analysis.errors import ConfigError

_PG_TYPES = {"text": "VARCHAR", "varchar": "VARCHAR", "bpchar": "VARCHAR", "float8": "DOUBLE", "float4": "FLOAT",
             "int8": "BIGINT", "int4": "INTEGER", "int2": "SMALLINT", "numeric": "DECIMAL(38,10)", "bool": "BOOLEAN",
             "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP"}
_PG_FORMAT = {"Y": "YYYY", "y": "YY", "m": "MM", "d": "DD", "H": "HH24", "M": "MI", "S": "SS", "b": "Mon",
              "B": "Month", "I": "HH12", "p": "AM", "f": "US"}
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.cr_try_double(value text) RETURNS double precision AS $$
BEGIN RETURN value::double precision; EXCEPTION WHEN others THEN RETURN NULL; END $$ LANGUAGE plpgsql IMMUTABLE;
CREATE OR REPLACE FUNCTION pg_temp.cr_try_date(value text, fmt text) RETURNS date AS $$
DECLARE parsed timestamp;
BEGIN
  parsed := to_timestamp(value, fmt);
  -- to_timestamp is lenient: keep only values that print back exactly as they were written.
  IF to_char(parsed, fmt) <> value THEN RETURN NULL; END IF;
  RETURN parsed::date;
EXCEPTION WHEN others THEN RETURN NULL;
END $$ LANGUAGE plpgsql IMMUTABLE;
"""


def postgres_date_format(strftime_format: str) -> str:
    """'%d.%m.%Y' -> 'DD.MM.YYYY' (to_timestamp's pattern language)."""
    return translate_date_format(strftime_format, _PG_FORMAT, '"', "PostgreSQL")


class PostgresEngine(Engine):
    kind = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            import sqlglot
            from psycopg.types.numeric import FloatLoader
        except ImportError:
            raise ConfigError("[engine] kind = \"postgres\" needs psycopg and sqlglot: "
                              "pip install 'campaign-report[postgres,spark]'") from None
        self._psycopg, self._sqlglot = psycopg, sqlglot
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise ConfigError(f"[engine] cannot connect to {url}: {first_line(exc)}") from None
        self.conn.adapters.register_loader("numeric", FloatLoader)  # sums come back as floats, not Decimal
        self.url = url
        self._run_raw(_FUNCTIONS)

    @property
    def description(self) -> str:
        version = self.conn.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"

    def sql(self, query: str) -> str:
        try:
            return ";\n".join(self._sqlglot.transpile(query, read="duckdb", write="postgres"))
        except self._sqlglot.errors.ParseError as exc:
            raise EngineError(first_line(exc)) from None

    def _run_raw(self, query: str, params: Any = None) -> Any:
        try:
            cur = self.conn.cursor()
            cur.execute(query, params)
            return cur
        except self._psycopg.Error as exc:
            raise EngineError(first_line(exc)) from None

    def execute(self, query: str) -> None:
        self._run_raw(self.sql(query))

    def rows(self, query: str) -> list[tuple]:
        return [tuple(r) for r in self._run_raw(self.sql(query)).fetchall()]

    def frame(self, query: str) -> pd.DataFrame:
        cur = self._run_raw(self.sql(query))
        names = [d.name for d in cur.description or ()]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
        for col, desc in zip(names, cur.description or (), strict=True):
            kind = self._type_name(desc.type_code)
            if kind == "DATE":
                frame[col] = pd.to_datetime(frame[col])
            elif kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
                frame[col] = frame[col].astype(float)
        return frame

    def _type_name(self, oid: int) -> str:
        info = self.conn.adapters.types.get(oid)
        return _PG_TYPES.get(info.name if info else "", (info.name if info else "VARCHAR").upper())

    def schema(self, query: str) -> dict[str, str]:
        cur = self._run_raw(f"SELECT * FROM ({self.sql(query)}) AS q LIMIT 0")
        return {d.name: self._type_name(d.type_code) for d in cur.description or ()}

    def _kind_of(self, name: str) -> str | None:
        found = self._run_raw("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE c.relname = %s AND n.oid = pg_my_temp_schema()", (name,)).fetchall()
        return found[0][0] if found else None

    def release(self, name: str) -> None:
        """The server stores it, not this process: nothing to free (and no DROP near the user's tables)."""

    def drop(self, name: str) -> None:
        kind = self._kind_of(name)
        if kind is not None:
            # CASCADE: views built on it go too; the pipeline recreates them in order.
            self._run_raw(f"DROP {'VIEW' if kind == 'v' else 'TABLE'} {name} CASCADE")

    def view(self, name: str, query: str) -> None:
        # CREATE OR REPLACE VIEW cannot change a view's columns: drop, then create.
        self.drop(name)
        self._run_raw(f"CREATE TEMP VIEW {name} AS {self.sql(query)}")

    def table(self, name: str, query: str) -> None:
        sql = self.sql(query)
        self.drop(name)
        self._run_raw(f"CREATE TEMP TABLE {name} AS {sql}")
        self._run_raw(f"ANALYZE {name}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        columns = []
        for col in frame.columns:
            series = frame[col]
            if pd.api.types.is_bool_dtype(series):
                kind = "boolean"
            elif pd.api.types.is_integer_dtype(series):
                kind = "bigint"
            elif pd.api.types.is_float_dtype(series):
                kind = "double precision"
            elif pd.api.types.is_datetime64_any_dtype(series):
                kind = "timestamp"
            else:
                kind = "text"
            columns.append(f"{_ident(str(col))} {kind}")
        self.drop(name)
        self._run_raw(f"CREATE TEMP TABLE {name} ({', '.join(columns)})")
        self._copy_in(name, [frame])

    def _copy_in(self, name: str, chunks: Any) -> None:
        """Stream frames into a table with COPY (CSV: an unquoted empty field is NULL)."""
        try:
            with self.conn.cursor().copy(f"COPY {name} FROM STDIN WITH (FORMAT csv)") as copy:
                for chunk in chunks:
                    buffer = io.StringIO()
                    chunk.to_csv(buffer, header=False, index=False)
                    copy.write(buffer.getvalue())
        except self._psycopg.Error as exc:
            raise EngineError(first_line(exc)) from None

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        return f"pg_temp.cr_try_date({text_expr}, {sql_literal(postgres_date_format(strftime_format))})"

    def try_double(self, text_expr: str) -> str:
        return f"pg_temp.cr_try_double({text_expr})"

    def _from_duckdb(self, name: str, reader: Callable[[DuckDBEngine], bool], folders: list[Path]) -> bool:
        """Files are read by embedded DuckDB (dialect detection, line numbers) and streamed in."""
        local = DuckDBEngine(read_folders=folders)
        try:
            reader(local)
            kinds = local.schema(f"SELECT * FROM {name}")
            pg = {"VARCHAR": "text", "DOUBLE": "double precision", "FLOAT": "real", "BIGINT": "bigint",
                  "INTEGER": "integer", "SMALLINT": "smallint", "BOOLEAN": "boolean", "DATE": "date"}
            columns = ", ".join(f"{_ident(c)} {pg.get(t, 'timestamp' if t.startswith('TIMESTAMP') else 'text')}"
                                for c, t in kinds.items())
            self.drop(name)
            self._run_raw(f"CREATE TEMP TABLE {name} ({columns})")
            self._copy_in(name, local.batches(f"SELECT * FROM {name}"))
            self._run_raw(f"ANALYZE {name}")
        finally:
            local.close()
        return False

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path, parallel: bool = True) -> bool:
        return self._from_duckdb(name, lambda local: local.read_csv(name, path, sep, encoding, workdir, parallel),
                                 [path.parent, workdir])

    def read_parquet(self, name: str, path: Path) -> bool:
        return self._from_duckdb(name, lambda local: local.read_parquet(name, path), [path.parent])

    def read_sql(self, name: str, query: str) -> bool:
        self.drop(name)
        # The user's query, in PostgreSQL's own dialect: it runs where the table is.
        self._run_raw(f"CREATE TEMP TABLE {name} AS SELECT q.*, row_number() OVER () + 1 AS _line FROM ({query}) q")
        return False

    def line_number(self, table: str, ordinal: int) -> int:
        return int(ordinal)

    def score(self, query: str, id_column: str, predict: Callable[[pd.DataFrame], np.ndarray]) -> pd.DataFrame:
        parts = []
        try:
            with self.conn.transaction(), self.conn.cursor(name="campaign_report_scores") as cur:
                cur.execute(self.sql(query))
                while True:
                    rows = cur.fetchmany(SCORE_BATCH_ROWS)
                    if not rows:
                        break
                    names = [d.name for d in cur.description or ()]
                    chunk = pd.DataFrame(rows, columns=names)
                    parts.append(pd.DataFrame({"id": chunk[id_column].astype(str).to_numpy(),
                                               "score": np.asarray(predict(chunk), dtype=float)}))
        except self._psycopg.Error as exc:
            raise EngineError(first_line(exc)) from None
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"id": [], "score": []})

    def close(self) -> None:
        self.conn.close()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
