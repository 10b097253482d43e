"""Load each configured table into the engine as raw text columns with normalised names.

Every source (CSV, Parquet, XLSX, SQL over files) ends up as an engine table `raw_<name>` whose
columns are VARCHAR, named in lower case with underscores, plus `_line` (the line in the source file,
header = 1) so that a value that cannot be parsed is reported with its row. Purchase lines are never
pulled into pandas: CSV and Parquet are read by the engine itself.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from campaign_report.analysis.config import TableSource
from campaign_report.analysis.data.dialect import Dialect, aligned_to_tsv, detect_dialect
from campaign_report.analysis.engines.base import Engine, EngineError, sql_ident
from campaign_report.analysis.errors import InputError
from campaign_report.analysis.settings import WHITESPACE

# What fixes a file the engine could not read, and a query over files that failed.
FILE_HINT = "set delimiter, encoding or decimal in [data.{name}] if they were detected wrongly"
SQL_HINT = ("check the query; for a text file, path = \"…\" in [data.{name}] detects the delimiter (whitespace-"
            "aligned columns included), or give read_csv its delim and header")


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
    ordinal_lines: bool = False  # `_line` is an ordinal (Spark): Engine.line_number turns it into a line

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


def _check_header(path: Path, dialect: Dialect, label: str) -> None:
    """A name twice in the header: the reader would rename one copy and the config would pick either."""
    with open(path, encoding=dialect.encoding, errors="replace", newline="") as fh:
        header = (fh.readline().split() if dialect.sep == WHITESPACE else
                  next(csv.reader(fh, delimiter=dialect.sep), []))
    seen: set[str] = set()
    for name in header:
        if name.strip() and normalise_name(name) in seen:
            raise InputError(label, "the header names this column twice", column=name.strip(), row=1)
        seen.add(normalise_name(name))


def load_raw(engine: Engine, source: TableSource, workdir: Path) -> RawTable:
    """Create raw_<name> in the engine from the configured source; errors name the file."""
    table = f"raw_{source.name}"
    dialect = None
    path = source.path
    readable, sep, encoding = source.path, ",", "utf-8"  # what the CSV reader was given (a retry reads it again)
    src = f"_src_{source.name}"
    ordinal_lines = False
    if source.url is not None:
        label = f"query of [data.{source.name}] on {source.url}"
        frame = _fetch_postgres(source.url, source.sql or "", label)
        frame["_line"] = range(2, len(frame) + 2)
        engine.register(src, frame)
        digest = hashlib.sha256(f"{source.url}\n{source.sql}".encode()).hexdigest()
        origin, native = source.url, False
    elif source.sql is not None:
        label = f"SQL of [data.{source.name}]"
        try:
            ordinal_lines = engine.read_sql(src, source.sql)
        except EngineError as exc:
            denied = "is not allowed" in str(exc)  # a folder the config does not name: nothing to fix in the SQL
            raise InputError(label, f"query failed: {exc}" +
                             ("" if denied else f" — {SQL_HINT.format(name=source.name)}")) from None
        digest = hashlib.sha256(source.sql.encode()).hexdigest()
        origin = "sql"
        native = True
    else:
        path = source.path
        assert path is not None
        label = path.name
        if not path.is_file() and not (engine.kind == "spark" and path.is_dir()):
            raise InputError(str(path), "file not found")
        suffix = path.suffix.lower()
        native = suffix in (".parquet", ".pq") or path.is_dir()
        try:
            if native:
                # Typed already: no text round trip, and a view (no copy) since the file can be re-read.
                ordinal_lines = engine.read_parquet(src, path)
            elif suffix in (".xlsx", ".xls"):
                try:
                    frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=str)
                except Exception as exc:  # openpyxl raises many types for a damaged workbook
                    raise InputError(label, f"cannot read workbook: {exc}") from None
                frame["_line"] = range(2, len(frame) + 2)
                engine.register(src, frame)
            else:
                dialect = detect_dialect(path, source.encoding, source.sep, source.decimal, source.thousands)
                if dialect.encoding == "binary":
                    raise InputError(label, "not a text file (it holds NUL bytes): export the table as CSV, "
                                            "Parquet or XLSX")
                _check_header(path, dialect, label)
                try:
                    if dialect.sep == WHITESPACE:
                        readable, sep, encoding = aligned_to_tsv(path, dialect.encoding, workdir), "\t", "utf-8"
                    else:
                        readable, sep, encoding = path, dialect.sep, dialect.encoding
                    ordinal_lines = engine.read_csv(src, readable, sep, encoding, workdir)
                except UnicodeDecodeError:
                    raise InputError(label, f"cannot decode as {dialect.encoding}: not a text export, or set "
                                            f"encoding in [data.{source.name}]") from None
        except EngineError as exc:
            if "Maximum line size" in str(exc) and dialect is not None:
                raise _long_line(path, dialect.encoding, label) from None
            raise InputError(label, f"cannot read: {exc} — {FILE_HINT.format(name=source.name)}") from None
        digest = file_sha256(path) if path.is_file() else hashlib.sha256(str(path).encode()).hexdigest()
        origin = str(path)
    def sequential_retry(exc: EngineError) -> bool:
        """A line break inside a quoted value stops DuckDB's parallel reader (a "CSV Error"): read again with
        the sequential one (slower, so only then)."""
        nonlocal ordinal_lines
        if dialect is None or readable is None or "CSV Error" not in str(exc):
            return False
        ordinal_lines = engine.read_csv(src, readable, sep, encoding, workdir, parallel=False)
        return True

    try:
        try:
            names = [c for c in engine.schema(f"SELECT * FROM {src}") if c != "_line"]
        except EngineError as exc:
            if not sequential_retry(exc):
                raise
            names = [c for c in engine.schema(f"SELECT * FROM {src}") if c != "_line"]
    except EngineError as exc:
        if "Maximum line size" in str(exc) and dialect is not None and path is not None:
            raise _long_line(path, dialect.encoding, label) from None
        raise InputError(label, f"cannot read: {exc} — {FILE_HINT.format(name=source.name)}") from None
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
    query = f"SELECT {select}, _line FROM {src}"
    try:
        # Files that can be re-read stay views; text and query results are materialised once.
        if source.sql is None and native:
            engine.view(table, query)
        else:
            try:
                engine.table(table, query)
            except EngineError as exc:
                if not sequential_retry(exc):
                    raise
                engine.table(table, query)
        types = engine.schema(f"SELECT * FROM {table}")
        rows = engine.scalar(f"SELECT count(*) FROM {table}")
    except EngineError as exc:
        raise InputError(label, f"cannot read: {exc}") from None
    if rows == 0:
        raise InputError(label, "the table has no rows")
    return RawTable(name=source.name, label=label, table=table, columns=tuple(normalised), dialect=dialect,
                    input_file=InputFile(name=source.name, source=origin, rows=int(rows), sha256=digest),
                    types=types, ordinal_lines=ordinal_lines)


def _fetch_postgres(url: str, query: str, label: str) -> pd.DataFrame:
    """Run the query in PostgreSQL (the database does the work) and bring back its rows as text.

    The password, if any, comes from libpq's PGPASSWORD environment variable, never from the config.
    """
    try:
        import psycopg
    except ImportError:
        raise InputError(label, "PostgreSQL sources need psycopg: pip install 'campaign-report[postgres]'") from None
    try:
        with psycopg.connect(url, connect_timeout=15) as conn:
            conn.read_only = True  # the database refuses any write, whatever the query says
            with conn.cursor() as cur:
                cur.execute(query)
                names = [d.name for d in cur.description or ()]
                rows = cur.fetchall()
    except psycopg.Error as exc:
        raise InputError(label, f"query failed: {str(exc).strip().splitlines()[0]}") from None
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame.map(lambda v: None if v is None else str(v)).astype(object)


MAX_LINE_BYTES = 2_000_000  # DuckDB's default max_line_size


def _long_line(path: Path, encoding: str, label: str) -> InputError:
    """The line DuckDB found too long, located (DuckDB's message counts from the start of its chunk)."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        for number, line in enumerate(fh, 1):
            if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8")) > MAX_LINE_BYTES:
                megabytes = len(line.encode("utf-8")) / 1e6
                return InputError(label, f"this line is {megabytes:.1f} MB long (a table's line is at most 2 MB): "
                                         "a quote that is never closed, or a field holding a whole document",
                                  row=number)
    return InputError(label, "a line is longer than 2 MB: a quote that is never closed, or not a table")


def new_workdir() -> Path:
    """A private temp folder for transcoded copies; removed by the caller's context."""
    return Path(tempfile.mkdtemp(prefix="campaign-report-"))
