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
import pickle
import sys
from collections.abc import Callable
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


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def sql_literal(text: str) -> str:
    """A string value quoted for SQL (category names like «Детские товары» or O'Neill)."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(identifier: str) -> str:
    """A column or table name quoted for SQL (names come from users' files)."""
    return '"' + identifier.replace('"', '""') + '"'


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

    def __init__(self, search_path: Path | None = None) -> None:
        self.con = duckdb.connect()
        if search_path is not None:
            self.execute(f"SET file_search_path = {sql_literal(str(search_path))}")

    def _run(self, query: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(query)
        except duckdb.Error as exc:
            raise EngineError(_first_line(exc)) from None

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
            raise EngineError(_first_line(exc)) from None
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
        readable = path if encoding == "utf-8" else _transcode(path, encoding, workdir)
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
            raise EngineError(_first_line(exc)) from None
        self.table(name, f"SELECT *, row_number() OVER () + 1 AS _line FROM ({rel.sql_query()})")
        return False

    def line_number(self, table: str, ordinal: int) -> int:
        return int(ordinal)

    def score(self, query: str, id_column: str, predict: Callable[[pd.DataFrame], np.ndarray]) -> pd.DataFrame:
        try:
            reader = self.con.sql(query).to_arrow_reader(SCORE_BATCH_ROWS)
        except duckdb.Error as exc:
            raise EngineError(_first_line(exc)) from None
        parts = []
        for batch in reader:
            chunk = batch.to_pandas()
            parts.append(pd.DataFrame({"id": chunk[id_column].to_numpy(), "score": predict(chunk)}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"id": [], "score": []})

    def close(self) -> None:
        self.con.close()


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only without extensions: re-encode cp1251 (and BOM) files, streaming."""
    target = workdir / (path.stem + ".utf8.csv")
    with open(path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return target


_SPARK_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT",
                "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
                "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP", "void": "VARCHAR"}
_JAVA_FORMAT = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "b": "MMM",
                "B": "MMMM", "p": "a", "I": "hh", "f": "SSSSSS"}


def java_date_format(strftime_format: str) -> str:
    """'%d.%m.%Y' -> 'dd.MM.yyyy': Spark parses dates with Java patterns, where letters are fields."""
    out, i = [], 0
    while i < len(strftime_format):
        ch = strftime_format[i]
        if ch == "%" and i + 1 < len(strftime_format):
            code = strftime_format[i + 1]
            if code not in _JAVA_FORMAT:
                raise ConfigError(f"config.toml: date_format code %{code} is not supported on Spark")
            out.append(_JAVA_FORMAT[code])
            i += 2
            continue
        out.append(f"'{ch}'" if ch.isalpha() else ("''" if ch == "'" else ch))
        i += 1
    return "".join(out)


class SparkEngine(Engine):
    """Spark through SQL: DuckDB-dialect queries are transpiled by sqlglot; tables are temp views."""

    kind = "spark"

    def __init__(self, master: str, conf: dict[str, str] | None = None) -> None:
        try:
            import sqlglot
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError("config.toml: [engine] kind = \"spark\" needs PySpark and sqlglot: "
                              "pip install 'campaign-report[spark]'") from None
        self._sqlglot = sqlglot
        # Executors in local mode must run this interpreter (the virtual environment), not `python3`.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings = {"spark.sql.execution.arrow.pyspark.enabled": "true", "spark.sql.session.timeZone": "UTC",
                    "spark.ui.enabled": "false", "spark.sql.ansi.enabled": "false",
                    "spark.ui.showConsoleProgress": "false"}
        if master.startswith("local"):
            settings["spark.sql.shuffle.partitions"] = "8"
        settings.update(conf or {})
        builder = SparkSession.builder.master(master).appName("campaign-report")
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            self.spark = builder.getOrCreate()
        except Exception as exc:  # Java missing, cluster unreachable: py4j and OSError alike
            raise ConfigError(f"config.toml: [engine] cannot start Spark at {master}: {_first_line(exc)}") from None
        self.spark.sparkContext.setLogLevel("ERROR")
        for key, value in settings.items():
            if key.startswith("spark.sql."):
                self.spark.conf.set(key, value)  # a session shared with an earlier run keeps old values
        self._cached: dict[str, Any] = {}
        self._views: set[str] = set()

    @property
    def description(self) -> str:
        return f"Spark {self.spark.version} ({self.spark.sparkContext.master})"

    def sql(self, query: str) -> str:
        """The DuckDB-dialect query in Spark SQL."""
        try:
            return ";\n".join(self._sqlglot.transpile(query, read="duckdb", write="spark"))
        except self._sqlglot.errors.ParseError as exc:
            raise EngineError(_first_line(exc)) from None

    def _df(self, query: str) -> Any:
        try:
            return self.spark.sql(self.sql(query))
        except EngineError:
            raise
        except Exception as exc:  # AnalysisException, ParseException, Py4JJavaError
            raise EngineError(_first_line(exc)) from None

    def execute(self, query: str) -> None:
        self._collect(self._df(query))

    def _collect(self, df: Any) -> list:
        try:
            return df.collect()
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None

    def rows(self, query: str) -> list[tuple]:
        return [tuple(r) for r in self._collect(self._df(query))]

    def frame(self, query: str) -> pd.DataFrame:
        try:
            # Arrow hands over read-only buffers; the analysis fills and edits frames in place.
            frame = self._df(query).toPandas().copy(deep=True)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None
        for col in frame.columns:  # dates come back as Python objects; DuckDB returns datetime64
            if frame[col].dtype == object and len(frame) and _is_date(frame[col]):
                frame[col] = pd.to_datetime(frame[col])
        return frame

    def schema(self, query: str) -> dict[str, str]:
        return {name: _duckdb_type(kind) for name, kind in self._df(query).dtypes}

    def register(self, name: str, frame: pd.DataFrame) -> None:
        from pyspark.sql import types as T

        local = frame.copy()
        fields = []
        for col in local.columns:
            series = local[col]
            if pd.api.types.is_bool_dtype(series):
                kind: Any = T.BooleanType()
            elif pd.api.types.is_integer_dtype(series):
                kind = T.LongType()
            elif pd.api.types.is_float_dtype(series):
                kind = T.DoubleType()
            elif pd.api.types.is_datetime64_any_dtype(series):
                kind = T.TimestampType()
            else:
                kind = T.StringType()
                local[col] = series.astype(object).where(series.notna(), None).map(
                    lambda v: v if v is None else str(v))
            fields.append(T.StructField(str(col), kind, True))
        df = self.spark.createDataFrame(local, schema=T.StructType(fields))
        self._replace(name, df.cache())

    def _replace(self, name: str, df: Any) -> None:
        old = self._cached.pop(name, None)
        df.createOrReplaceTempView(name)
        self._views.add(name)
        if df.is_cached:
            self._cached[name] = df
        if old is not None:
            old.unpersist()

    def view(self, name: str, query: str) -> None:
        self._replace(name, self._df(query))

    def table(self, name: str, query: str) -> None:
        df = self._df(query).cache()
        try:
            df.count()  # materialise now, while its inputs exist
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None
        self._replace(name, df)

    def drop(self, name: str) -> None:
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        return f"CAST(try_to_timestamp({text_expr}, {sql_literal(java_date_format(strftime_format))}) AS DATE)"

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path) -> bool:
        from pyspark.sql import functions as F

        # Spark's CSV reader knows UTF-8/16/32 and Latin-1 only: a 1C export in cp1251 is re-encoded first
        # (the copy sits in the local work folder, so this path is for files beside the driver).
        readable = path if encoding == "utf-8" else _transcode(path, encoding, workdir)
        try:
            df = self.spark.read.options(header=True, sep=sep, encoding="utf-8", quote='"', escape='"',
                                         mode="PERMISSIVE", inferSchema=False).csv(str(readable))
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None
        self._replace(name, df.withColumn("_line", F.monotonically_increasing_id()))
        return True

    def read_parquet(self, name: str, path: Path) -> bool:
        from pyspark.sql import functions as F

        try:
            df = self.spark.read.parquet(str(path))
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None
        self._replace(name, df.withColumn("_line", F.monotonically_increasing_id()))
        return True

    def read_sql(self, name: str, query: str) -> bool:
        from pyspark.sql import functions as F

        try:
            df = self.spark.sql(query)  # the user's query, in Spark's own dialect
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None
        self._replace(name, df.withColumn("_line", F.monotonically_increasing_id()))
        return True

    def score(self, query: str, id_column: str, predict: Callable[[pd.DataFrame], np.ndarray]) -> pd.DataFrame:
        # mapInPandas: each executor scores its partitions in Arrow batches; the model travels pickled.
        payload = pickle.dumps(predict)
        batch_rows = SCORE_BATCH_ROWS

        def score_partition(batches):  # runs on executors
            fn = pickle.loads(payload)
            for chunk in batches:
                if len(chunk):
                    yield pd.DataFrame({"id": chunk[id_column].astype(str).to_numpy(),
                                        "score": np.asarray(fn(chunk), dtype=float)})

        self.spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
        scored = self._df(query).mapInPandas(score_partition, schema="id string, score double")
        try:
            return scored.toPandas().copy(deep=True)
        except Exception as exc:
            raise EngineError(_first_line(exc)) from None

    def close(self) -> None:
        for df in self._cached.values():
            df.unpersist()
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()


def _is_date(series: pd.Series) -> bool:
    import datetime as dt

    first = series.dropna().head(1)
    return len(first) == 1 and isinstance(first.iloc[0], dt.date)


def _duckdb_type(spark_type: str) -> str:
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return _SPARK_TYPES.get(spark_type, spark_type.upper())


def open_engine(settings: EngineConfig, search_path: Path | None = None) -> Engine:
    """The engine the config names; Spark's master comes from the config or SPARK_MASTER."""
    if settings.kind == "spark":
        master = settings.master or os.environ.get("SPARK_MASTER") or "local[*]"
        return SparkEngine(master, dict(settings.conf))
    return DuckDBEngine(search_path)
