"""Where the heavy SQL runs: embedded DuckDB (the default) or Spark, from one SQL text.

Every query in analysis/ is written once, in DuckDB's dialect. DuckDBEngine runs it as written;
SparkEngine parses it with sqlglot (the SQL compiler Ibis is built on) and generates Spark SQL. What
differs between engines and is not SQL (reading files, registering a pandas frame, materialising a
table, batch scoring, date formats) lives behind the small interface below, so the analysis modules
have no engine-specific branches. Results that come back are aggregates or one row per customer,
never purchase lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from campaign_report.analysis.errors import ConfigError

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


MAX_ENGINE_MESSAGE = 300
# Lines of a DuckDB message that are not the diagnosis: the echoed query, a line of the user's file (errors
# show a value, not a file's content), the sniffer's search space, and the reader's option dump.
_NOISE = ("LINE ", "Original Line:", "Quote/Escape Candidates", "Comment Candidates", "Encoding:",
          "The search space used was", "file = ", "quote = ", "escape = ", "new_line = ", "header = ", "skip_rows = ",
          "comment = ", "strict_mode = ", "date_format = ", "timestamp_format = ", "null_padding = ",
          "sample_size = ", "ignore_errors = ", "all_varchar = ", "delimiter = ", "^")


def engine_message(exc: Exception) -> str:
    """A DuckDB message whole but on one line: its diagnosis lines joined, without the query echo, the file
    content and the list of generic fixes (the caller adds the config key that fixes it)."""
    kept: list[str] = []
    for line in str(exc).splitlines():
        line = line.strip()
        if line.startswith("Possible fixes"):
            break
        if line and not line.startswith(_NOISE) and not line.startswith("* "):
            kept.append(line.rstrip("."))
    text = "; ".join(kept) or type(exc).__name__
    return text if len(text) <= MAX_ENGINE_MESSAGE else text[:MAX_ENGINE_MESSAGE - 1] + "…"


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
                raise ConfigError(f"date_format code %{code} is not supported on {engine}")
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

    def release(self, name: str) -> None:
        """Free a table the run no longer needs, where the engine holds it in this process's memory (DuckDB, Spark's
        cache); a database server keeps its own."""
        self.drop(name)

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        """SQL turning text into a DATE (NULL where it does not parse)."""
        raise NotImplementedError

    def try_double(self, text_expr: str) -> str:
        """SQL turning text into a DOUBLE (NULL where it does not parse)."""
        return f"TRY_CAST({text_expr} AS DOUBLE)"

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path, parallel: bool = True) -> bool:
        """View `name` over a CSV: every column text, plus `_line`. True when `_line` is an ordinal
        that `line_number` must translate, False when it is the line number itself. `parallel=False`
        is the slower reading that allows line breaks inside quoted values."""
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


def transcode(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only without extensions: re-encode cp1251 (and BOM) files, streaming."""
    target = workdir / (path.stem + ".utf8.csv")
    with open(path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return target
