"""Typed SQL for one raw table's role columns: numbers, yes/no flags, text and dates, each checked so that the
first value that cannot be read stops the run with its file, column, row and value."""

from __future__ import annotations

from campaign_report.analysis.config import TableSource
from campaign_report.analysis.data.dialect import detect_date_format
from campaign_report.analysis.data.load import RawTable, normalise_name
from campaign_report.analysis.engines.base import Engine, sql_ident, sql_literal
from campaign_report.analysis.errors import InputError


def number_sql(engine: Engine, col: str, decimal: str, thousands: str | None) -> str:
    """SQL reading a text column as a number: no-break spaces, the thousands separator and a decimal comma
    handled; NULL where it does not parse."""
    expr = f"replace(trim({col}), chr(160), '')"
    if thousands:
        expr = f"replace({expr}, {sql_literal(thousands)}, '')"
    if decimal == ",":
        expr = f"replace(replace({expr}, ' ', ''), ',', '.')"
    return engine.try_double(expr)


_TRUE = "('1','1.0','true','t','yes','y','да','д','истина')"
_FALSE = "('0','0.0','false','f','no','n','нет','н','ложь')"


def _flag_sql(col: str) -> str:
    low = f"lower(trim({col}))"
    return f"CASE WHEN {low} IN {_TRUE} THEN 1 WHEN {low} IN {_FALSE} THEN 0 END"


MAX_ABS_NUMBER = 1e15  # beyond any amount, quantity or age; sums of such values lose every cent


class Typer:
    """Builds typed SQL expressions for one raw table and fails loudly on the first bad value."""

    def __init__(self, engine: Engine, raw: RawTable, source: TableSource) -> None:
        self.engine, self.raw, self.source = engine, raw, source
        dialect = raw.dialect
        self.decimal = source.decimal or (dialect.decimal if dialect else ".")
        self.thousands = source.thousands or (dialect.thousands if dialect else None)

    def column(self, role: str) -> str | None:
        """The normalised raw column for a role, or an error naming the configured column."""
        name = self.source.column(role)
        if name is None:
            return None
        norm = normalise_name(name)
        if norm not in self.raw.columns:
            # The header names, each cut short: the first line of a file that is not a table (a wrong path)
            # is shown as an excerpt, not printed whole.
            names = [c if len(c) <= 24 else c[:23] + "…" for c in self.raw.columns[:8]]
            more = f" and {len(self.raw.columns) - 8} more" if len(self.raw.columns) > 8 else ""
            raise InputError(self.raw.label, f"column not found (columns are: {', '.join(names)}{more})",
                             column=name)
        return sql_ident(norm)

    def _check(self, role: str, col: str, expr: str, what: str) -> None:
        self._reject(role, col, f"{col} IS NOT NULL AND trim({col}) <> '' AND ({expr}) IS NULL",
                     f"cannot parse as {what}")

    def _reject(self, role: str, col: str, condition: str, problem: str) -> None:
        """Stop at the first row where `condition` holds, naming its line and value."""
        bad = self.engine.rows(f"SELECT _line, {col} FROM {self.raw.table} WHERE {condition} ORDER BY _line LIMIT 1")
        if bad:
            line = self.engine.line_number(self.raw.table, bad[0][0]) if self.raw.ordinal_lines else bad[0][0]
            raise InputError(self.raw.label, problem, column=self.source.column(role), row=int(line),
                             value=bad[0][1])

    def _native(self, role: str) -> str | None:
        """The DuckDB type of a role's column when it is not text (Parquet, SQL sources)."""
        name = self.source.column(role)
        norm = normalise_name(name) if name else None
        return None if norm is None or self.raw.is_text(norm) else self.raw.types[norm]

    def number(self, role: str) -> str | None:
        col = self.column(role)
        if col is None:
            return None
        if self._native(role):
            expr = f"CAST({col} AS DOUBLE)"
        else:
            expr = number_sql(self.engine, col, self.decimal, self.thousands)
            self._check(role, col, expr, "a number")
        # NaN and ±inf compare above every number in DuckDB, Spark and PostgreSQL alike.
        self._reject(role, col, f"({expr}) IS NOT NULL AND abs({expr}) > {MAX_ABS_NUMBER:.0e}",
                     "not a finite number within ±1e15 (NaN, inf or an overflow)")
        return expr

    def flag(self, role: str) -> str | None:
        col = self.column(role)
        if col is None:
            return None
        if self._native(role):
            value = f"CAST({col} AS DOUBLE)"
            return f"CAST(CASE WHEN {value} > 0 THEN 1 WHEN {value} <= 0 THEN 0 END AS DOUBLE)"
        num = number_sql(self.engine, col, self.decimal, self.thousands)
        expr = f"CAST(COALESCE({_flag_sql(col)}, CASE WHEN {num} > 0 THEN 1 WHEN {num} <= 0 THEN 0 END) AS DOUBLE)"
        self._check(role, col, expr, "a yes/no flag")
        return expr

    def text(self, role: str) -> str | None:
        col = self.column(role)
        if col is None:
            return None
        return f"CAST({col} AS VARCHAR)" if self._native(role) else f"NULLIF(trim({col}), '')"

    def date(self, role: str) -> str | None:
        col = self.column(role)
        if col is None:
            return None
        native = self._native(role)
        if native and (native.startswith(("DATE", "TIMESTAMP"))):
            return f"CAST({col} AS DATE)"
        if native:
            col = f"CAST({col} AS VARCHAR)"  # e.g. 2018100100 as an integer, parsed with its format
        fmt = self.source.date_format
        if fmt is None:
            sample = [r[0] for r in self.engine.rows(
                f"SELECT {col} FROM {self.raw.table} WHERE {col} IS NOT NULL AND trim({col}) <> '' LIMIT 2000")]
            fmt = detect_date_format(sample)
            if fmt is None:
                raise InputError(self.raw.label, "cannot recognise the date format (set date_format)",
                                 column=self.source.column(role), value=sample[0] if sample else None)
        expr = self.engine.parse_date(f"trim({col})", fmt)
        self._check(role, col, expr, f"a date in format {fmt}")
        return expr
