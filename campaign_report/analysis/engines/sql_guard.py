"""SQL from the config only reads: one query per source, one condition per filter, checked before anything runs.

A config's `sql` and `score_filter` are pasted into the engine's SQL. Parsed with sqlglot (already the engines'
translator), a source must be a single query (SELECT, WITH …, UNION, PIVOT) and a filter a single expression;
neither may hold a statement that writes, loads or configures (COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CREATE,
DROP, INSERT, …). What a query may read is the engine's business: DuckDB is locked to the folders the config
names (`DuckDBEngine(allowed=…)`), so `read_csv('/etc/passwd')` fails there, not here.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from campaign_report.analysis.errors import ConfigError

# Statements and clauses that change state, touch files other than by reading them, or configure the engine.
_FORBIDDEN: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in (
        "Command", "Copy", "Create", "Drop", "Insert", "Update", "Delete", "Merge", "Alter", "AlterColumn",
        "Set", "SetItem", "Pragma", "Attach", "Detach", "Install", "Use", "TruncateTable", "Transaction",
        "Commit", "Rollback", "Into", "LoadData", "Export", "Grant", "Revoke", "Comment", "Analyze", "Cache",
        "Uncache", "Refresh", "Kill", "Describe", "Summarize", "Show")
    if hasattr(exp, name))
_QUERY_ROOTS: tuple[type[exp.Expression], ...] = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery,
                                                  exp.Pivot)
_FILE_FUNCTION = re.compile(r"^(read_\w+|\w+_scan|sniff_csv|glob)$", re.IGNORECASE)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
DIALECT = {"duckdb": "duckdb", "spark": "spark", "postgres": "postgres"}


def _statements(sql: str, dialect: str, where: str, what: str = "one SQL query") -> list[Any]:
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command": the check below says it better
    try:
        return [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        detail = re.sub(r"\x1b\[[0-9;]*m", "", str(exc).splitlines()[0])[:160] if str(exc) else "syntax error"
        raise ConfigError(f"{where} cannot be read as {what}: {detail}") from None
    finally:
        logger.setLevel(level)


def _refuse_writes(tree: exp.Expression, where: str) -> None:
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            word = (node.sql().split() or [type(node).__name__])[0].upper()
            raise ConfigError(f"{where} may only read: {word} is not allowed (one SELECT, no statements that "
                              "write, load, attach or configure)")


def check_read_only_query(sql: str, dialect: str, where: str) -> None:
    """A source's `sql`: exactly one query that only reads."""
    statements = _statements(sql, dialect, where)
    if len(statements) != 1:
        raise ConfigError(f"{where} must be one query; it holds {len(statements)} statements (remove the ';')")
    tree = statements[0]
    _refuse_writes(tree, where)
    if not isinstance(tree, _QUERY_ROOTS):
        word = (tree.sql(dialect=dialect).split() or [type(tree).__name__])[0].upper()
        raise ConfigError(f"{where} must be a query (SELECT …), not {word}")


def check_condition(condition: str, where: str) -> None:
    """A `score_filter`: one boolean expression over the customer table, in DuckDB's dialect."""
    try:
        statements = _statements(f"SELECT id FROM customers WHERE ({condition})", "duckdb", where)
    except ConfigError:
        raise ConfigError(f"{where} is not one SQL condition (unbalanced brackets or quotes, a ';' or a "
                          f"comment?), e.g. \"city = 'Москва'\"") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise ConfigError(f"{where} must be one condition, e.g. \"city = 'Москва'\" (no ';', no statements)")
    _refuse_writes(statements[0], where)
    if statements[0].args.get("where") is None or statements[0].args.get("limit") or \
            statements[0].args.get("order") or statements[0].args.get("group"):
        raise ConfigError(f"{where} must be one condition, e.g. \"city = 'Москва'\"")


def absolute_paths(sql: str, folder: Path) -> str:
    """The query with every relative file path it reads made absolute against the config's folder.

    DuckDB locked to named folders checks a path as written, and a relative one is read from the current
    folder, not the config's: the paths are resolved here, by position in the text, so nothing else in the
    user's query is rewritten. A path is a string literal right after FROM or JOIN, or an argument of a
    reading function (read_csv, read_parquet, …, glob) — also inside a list of files.
    """
    try:
        tokens = list(sqlglot.tokenize(sql, read="duckdb"))
    except SqlglotError:
        return sql  # the guard above reports the syntax error
    edits: list[tuple[int, int, str]] = []
    depth_in_reader: list[int] = []  # parenthesis depths at which a reading function's arguments open
    depth = 0
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            if i > 0 and _FILE_FUNCTION.match(tokens[i - 1].text):
                depth_in_reader.append(depth)
        elif token.token_type == TokenType.R_PAREN:
            if depth_in_reader and depth_in_reader[-1] == depth:
                depth_in_reader.pop()
            depth -= 1
        elif token.token_type == TokenType.STRING:
            after_from = i > 0 and tokens[i - 1].token_type in (TokenType.FROM, TokenType.JOIN)
            is_option = i > 0 and tokens[i - 1].token_type in (TokenType.EQ, TokenType.PARAMETER) or \
                (i > 1 and tokens[i - 1].token_type == TokenType.COLON)
            if (after_from or (depth_in_reader and depth == depth_in_reader[-1] or
                               depth_in_reader and _in_list(tokens, i))) and not is_option:
                value = token.text
                if value and not os.path.isabs(value) and not _URL.match(value):
                    resolved = os.path.normpath(os.path.join(str(folder), value))
                    edits.append((token.start, token.end, "'" + resolved.replace("'", "''") + "'"))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end + 1:]
    return sql


def _in_list(tokens: list, i: int) -> bool:
    """The string is an element of a [ … ] list (read_csv(['a.csv', 'b.csv']))."""
    j = i - 1
    while j >= 0 and tokens[j].token_type in (TokenType.STRING, TokenType.COMMA):
        j -= 1
    return j >= 0 and tokens[j].token_type == TokenType.L_BRACKET


def folders_read(paths: list[Path]) -> list[str]:
    """The folders DuckDB may read: each as written and as resolved (DuckDB compares text; a symlinked folder
    has two spellings), with a trailing separator so that /data does not also allow /data2."""
    out: list[str] = []
    for path in paths:
        for form in {os.path.normpath(os.path.abspath(path)), os.path.realpath(path)}:
            text = form.rstrip(os.sep) + os.sep
            if text not in out:
                out.append(text)
    return out
