"""Load each configured table into DuckDB as raw text columns with normalised names.

Every source (CSV, Parquet, XLSX, SQL over files) ends up as a DuckDB table `raw_<name>` whose
columns are VARCHAR, named in lower case with underscores, plus `_line` (the line in the source file,
header = 1) so that a value that cannot be parsed is reported with its row. Purchase lines are never
pulled into pandas: CSV is read by DuckDB itself (transcoded first only when it is not UTF-8).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from analysis.config import TableSource
from analysis.dialect import Dialect, detect_dialect
from analysis.errors import InputError


@dataclass(frozen=True)
class InputFile:
    name: str
    source: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class RawTable:
    name: str
    label: str  # what error messages call the source: the file name or "SQL of [data.x]"
    table: str  # DuckDB table name holding the raw text columns
    columns: tuple[str, ...]
    dialect: Dialect | None
    input_file: InputFile
    types: dict[str, str]  # DuckDB type per column: VARCHAR for text exports, native for Parquet and SQL

    def is_text(self, column: str) -> bool:
        return self.types.get(column, "VARCHAR") == "VARCHAR"


def normalise_name(name: str) -> str:
    """Column names: trimmed, lower case, runs of spaces and punctuation to one underscore."""
    return re.sub(r"[\s\-./]+", "_", str(name).strip().lower()).strip("_")


def file_sha256(path: Path) -> str:
    """Content hash of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sql_ident(identifier: str) -> str:
    """A column or table name quoted for SQL (names come from users' files)."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A string value quoted for SQL (category names like «Детские товары» or O'Neill)."""
    return "'" + text.replace("'", "''") + "'"


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only without extensions: re-encode cp1251 (and BOM) files, streaming."""
    target = workdir / (path.stem + ".utf8.csv")
    with open(path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8",
                                                                 newline="") as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return target


def load_raw(con: duckdb.DuckDBPyConnection, source: TableSource, workdir: Path) -> RawTable:
    """Create raw_<name> in DuckDB from the configured source; errors name the file."""
    table = f"raw_{source.name}"
    dialect = None
    if source.url is not None:
        label = f"query of [data.{source.name}] on {source.url}"
        frame = _fetch_postgres(source.url, source.sql or "", label)
        con.register(f"_pg_{source.name}", frame)
        src_sql = f"SELECT *, row_number() OVER () + 1 AS _line FROM _pg_{source.name}"
        digest = hashlib.sha256(f"{source.url}\n{source.sql}".encode()).hexdigest()
        origin, native = source.url, False
    elif source.sql is not None:
        label = f"SQL of [data.{source.name}]"
        try:
            rel = con.sql(source.sql)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _sql_{source.name} AS {rel.sql_query()}")
        except duckdb.Error as exc:
            raise InputError(label, f"query failed: {str(exc).splitlines()[0]}") from None
        src_sql = f"SELECT *, row_number() OVER () + 1 AS _line FROM _sql_{source.name}"
        digest = hashlib.sha256(source.sql.encode()).hexdigest()
        origin = "sql"
        native = True
    else:
        path = source.path
        assert path is not None
        label = path.name
        if not path.is_file():
            raise InputError(str(path), "file not found")
        suffix = path.suffix.lower()
        native = suffix in (".parquet", ".pq")
        if native:
            # Typed already: no text round trip, and a view (no copy) since the file can be re-read.
            src_sql = (f"SELECT * EXCLUDE (file_row_number), file_row_number + 2 AS _line "
                       f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true)")
        elif suffix in (".xlsx", ".xls"):
            try:
                frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=str)
            except Exception as exc:  # openpyxl raises many types for a damaged workbook
                raise InputError(label, f"cannot read workbook: {exc}") from None
            frame["_line"] = range(2, len(frame) + 2)
            con.register(f"_xlsx_{source.name}", frame)
            src_sql = f"SELECT * FROM _xlsx_{source.name}"
        else:
            dialect = detect_dialect(path, source.encoding, source.sep, source.decimal, source.thousands)
            readable = path if dialect.encoding == "utf-8" else _transcode(path, dialect.encoding, workdir)
            src_sql = (f"SELECT *, row_number() OVER () + 1 AS _line FROM read_csv("
                       f"{sql_literal(str(readable))}, delim={sql_literal(dialect.sep)}, header=true, "
                       f"all_varchar=true, quote='\"', escape='\"', strict_mode=false, "
                       f"null_padding=true)")
        digest = file_sha256(path)
        origin = str(path)
    try:
        rel = con.sql(src_sql)
        names = [c for c in rel.columns if c != "_line"]
    except duckdb.Error as exc:
        raise InputError(label, f"cannot read: {str(exc).splitlines()[0]}") from None
    normalised = [normalise_name(c) for c in names]
    seen: set[str] = set()
    for orig, norm in zip(names, normalised, strict=True):
        if norm in seen:
            raise InputError(label, "two columns have the same name after normalising", column=orig)
        seen.add(norm)
    if native:
        select = ", ".join(f"{sql_ident(o)} AS {sql_ident(n)}" for o, n in zip(names, normalised, strict=True))
    else:
        select = ", ".join(f"CAST({sql_ident(o)} AS VARCHAR) AS {sql_ident(n)}" for o, n in zip(names, normalised,
                                                                                        strict=True))
    kind = "VIEW" if source.sql is None and native else "TABLE"
    try:
        con.execute(f"CREATE OR REPLACE TEMP {kind} {table} AS SELECT {select}, _line FROM ({src_sql})")
    except duckdb.Error as exc:
        raise InputError(label, f"cannot read: {str(exc).splitlines()[0]}") from None
    described = con.sql(f"SELECT * FROM {table}")
    types = {name: str(dtype) for name, dtype in zip(described.columns, described.types, strict=True)}
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if rows == 0:
        raise InputError(label, "the table has no rows")
    return RawTable(name=source.name, label=label, table=table, columns=tuple(normalised), dialect=dialect,
                    input_file=InputFile(name=source.name, source=origin, rows=int(rows), sha256=digest),
                    types=types)


def _fetch_postgres(url: str, query: str, label: str) -> pd.DataFrame:
    """Run the query in PostgreSQL (the database does the work) and bring back its rows as text.

    The password, if any, comes from libpq's PGPASSWORD environment variable, never from the config.
    """
    try:
        import psycopg
    except ImportError:
        raise InputError(label, "PostgreSQL sources need psycopg: pip install 'campaign-report[postgres]'") from None
    try:
        with psycopg.connect(url, connect_timeout=15) as conn, conn.cursor() as cur:
            cur.execute(query)
            names = [d.name for d in cur.description or ()]
            rows = cur.fetchall()
    except psycopg.Error as exc:
        raise InputError(label, f"query failed: {str(exc).strip().splitlines()[0]}") from None
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame.map(lambda v: None if v is None else str(v)).astype(object)


def new_workdir() -> Path:
    """A private temp folder for transcoded copies; removed by the caller's context."""
    return Path(tempfile.mkdtemp(prefix="campaign-report-"))
