"""The [data.*] tables of a config: where each comes from, how its file is written, which of its columns
play which role, and what a label's value means. Part of reading the config (see `config`)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from campaign_report.analysis.engines.sql_guard import DIALECT, absolute_paths, check_read_only_query
from campaign_report.analysis.errors import ConfigError
from campaign_report.analysis.settings import (
    POSITIVE_IS,
    SOURCE_KEYS,
    TABLE_OPTIONS,
    TABLE_ROLES,
    WHITESPACE,
    TableSource,
)


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """" (did you mean 'title'?)" for a key one or two letters from a known one, else ""."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def choice(value: str, allowed: tuple[str, ...], where: str) -> None:
    """A ConfigError unless the value is one of a closed vocabulary."""
    if value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}, got {value!r}")


def delimiter_value(value: str, section: str) -> str:
    """One character, a tab, or runs of whitespace ("whitespace", or a single space, which in an aligned text
    export always means runs of spaces)."""
    if value in (" ", WHITESPACE):
        return WHITESPACE
    if value == "\\t":
        return "\t"
    if len(value) != 1:
        raise ConfigError(f"{section} delimiter must be one character (\",\", \";\", \"|\", \"\\t\") or "
                          f"\"whitespace\", got {value!r}")
    return value


def table_source(name: str, table: Any, base: Path, engine_kind: str = "duckdb") -> TableSource:
    """[data.<name>] read: its source, its file's dialect overrides, its role columns and its options."""
    if name not in TABLE_ROLES:
        raise ConfigError(f"unknown table [data.{name}]{did_you_mean(name, TABLE_ROLES)} "
                          f"(known: {', '.join(TABLE_ROLES)})")
    required, optional = TABLE_ROLES[name]
    options_known = TABLE_OPTIONS.get(name, {})
    roles: dict[str, str] = {}
    options: dict[str, Any] = {}
    source: dict[str, Any] = dict.fromkeys(SOURCE_KEYS)
    if not isinstance(table, dict):
        raise ConfigError(f"[data.{name}] must be a table with a path or sql and the column names")
    for key, value in table.items():
        if key in SOURCE_KEYS:
            if not isinstance(value, str) and not (key == "sheet" and isinstance(value, int)):
                raise ConfigError(f"[data.{name}] {key} must be a string (in quotes), got {value!r}")
            source[key] = value
        elif key in options_known:
            kind = options_known[key][0]
            if key in ("positive", "control") and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # positive = 1, control = 0: the data's values are read as text
            if (kind == "bool") != isinstance(value, bool) or (kind == "str" and not isinstance(value, str)):
                shown = "true or false" if kind == "bool" else "a string (in quotes)"
                raise ConfigError(f"[data.{name}] {key} must be {shown}, got {value!r}")
            options[key] = value
        elif key in required or key in optional:
            if not isinstance(value, str):
                raise ConfigError(f"[data.{name}] {key} must be a column name (string)")
            roles[key] = value
        else:
            known = (*SOURCE_KEYS, *required, *optional, *options_known)
            raise ConfigError(f"unknown key '{key}' in [data.{name}]{did_you_mean(key, known)}")
    for role in required:
        if role not in roles:
            raise ConfigError(f"missing key '{role}' in [data.{name}]")
    if name == "transactions" and "amount" not in roles and not {"price", "quantity"} <= roles.keys():
        raise ConfigError("[data.transactions] needs 'amount' or both 'price' and 'quantity'")
    if name == "customers":
        check_label(roles, options)
    if sum(source[k] is not None for k in ("path", "sql")) != 1:
        raise ConfigError(f"[data.{name}] needs exactly one of 'path' or 'sql'")
    if source["url"] is not None:
        if source["sql"] is None:
            raise ConfigError(f"[data.{name}] url needs 'sql' (the query run by the database)")
        check_postgres_url(str(source["url"]), f"[data.{name}]")
    if source["delimiter"] is not None and source["sep"] is not None:
        raise ConfigError(f"[data.{name}] give delimiter or sep, not both (they are the same key)")
    delimiter = source["delimiter"] if source["delimiter"] is not None else source["sep"]
    delimiter = delimiter_value(delimiter, f"[data.{name}]") if delimiter is not None else None
    if isinstance(source["path"], str):
        source["path"] = expand_environment(source["path"], f"[data.{name}] path")
    if isinstance(source["sql"], str):
        where = f"[data.{name}] sql"
        source["sql"] = expand_environment(source["sql"], where, in_sql=True)
        dialect = "postgres" if source["url"] is not None else DIALECT.get(engine_kind, "duckdb")
        check_read_only_query(source["sql"], dialect, where)
        if dialect == "duckdb":
            # DuckDB reads only the folders the config names, and checks a path as written: relative paths
            # start at the config's folder, as everywhere else in the config.
            source["sql"] = absolute_paths(source["sql"], base)
    path = Path(source["path"]) if source["path"] else None
    if path is not None and not path.is_absolute():
        path = (base / path).resolve()
    return TableSource(name=name, path=path, sql=source["sql"], url=source["url"],
                       encoding=source["encoding"], sep=delimiter, decimal=source["decimal"],
                       thousands=source["thousands"], date_format=source["date_format"],
                       sheet=source["sheet"], roles=roles, options=options)


def check_label(roles: dict[str, str], options: dict[str, Any]) -> None:
    """A label needs the value that counts; what that value means is stated, never guessed from its word."""
    if "label" in roles and "positive" not in options:
        raise ConfigError(f"[data.customers] label = {roles['label']!r} needs positive = \"…\": the label's value "
                          "that counts as the outcome")
    if "label" not in roles and ("positive" in options or "positive_is" in options):
        raise ConfigError("[data.customers] positive and positive_is describe the label: set label = \"<column>\"")
    if "positive_is" in options:
        choice(options["positive_is"], POSITIVE_IS, "[data.customers] positive_is")


_ENV_REFERENCE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def expand_environment(text: str, where: str, in_sql: bool = False) -> str:
    """`${NAME}` and `${NAME:-default}` in a path or query: the data folder can move without editing SQL.

    In SQL a value is data, never code: inside a quoted string its quotes are doubled, and outside one it
    becomes a quoted string itself, so a value such as `x' OR 1=1 --` cannot change the query."""
    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ConfigError(f"{where} uses ${{{name}}}, which is not set in the environment")
        return default
    if not in_sql:
        return _ENV_REFERENCE.sub(value, text)
    out, quote, i = [], "", 0
    while i < len(text):
        match = _ENV_REFERENCE.match(text, i)
        if match:
            raw = value(match)
            out.append(raw.replace(quote, quote * 2) if quote else "'" + raw.replace("'", "''") + "'")
            i = match.end()
            continue
        ch = text[i]
        if ch in ("'", '"'):
            if not quote:
                quote = ch
            elif ch == quote and text[i + 1:i + 2] == quote:  # a doubled quote inside the string
                out.append(ch)
                i += 1
            elif ch == quote:
                quote = ""
        out.append(ch)
        i += 1
    return "".join(out)


def check_postgres_url(url: str, section: str) -> None:
    """A PostgreSQL URL, without a password (that comes from PGPASSWORD)."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{section} url must be postgresql://user@host:port/database")
    if "@" in url and ":" in url.split("@")[0].split("//", 1)[1]:
        raise ConfigError(f"{section} url must not hold a password; set PGPASSWORD")
    query = url.split("?", 1)[1] if "?" in url else ""
    if any(part.split("=", 1)[0].strip().lower() in ("password", "passfile", "sslpassword")
           for part in re.split("[&;]", query)):
        raise ConfigError(f"{section} url must not hold a password (in its ?… part either); set PGPASSWORD")
