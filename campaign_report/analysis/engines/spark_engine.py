"""Spark as the engine: DuckDB-dialect SQL transpiled by sqlglot, tables as (cached) temp views.

Purchase lines stay in Spark; what comes back are aggregates and one row per customer. Scoring runs on
the executors through mapInPandas, so they need this package and scikit-learn installed (local mode
shares the driver's environment).
"""

from __future__ import annotations

import datetime
import os
import pickle
import sys
from collections.abc import Callable
from decimal import Decimal
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
    transcode,
    translate_date_format,
)
from campaign_report.analysis.errors import ConfigError

_SPARK_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT",
                "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
                "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP", "void": "VARCHAR"}
_JAVA_FORMAT = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "b": "MMM",
                "B": "MMMM", "p": "a", "I": "hh", "f": "SSSSSS"}


def java_date_format(strftime_format: str) -> str:
    """'%d.%m.%Y' -> 'dd.MM.yyyy': Spark parses dates with Java patterns."""
    return translate_date_format(strftime_format, _JAVA_FORMAT, "'", "Spark")


class SparkEngine(Engine):
    """Spark through SQL: DuckDB-dialect queries are transpiled by sqlglot; tables are temp views."""

    kind = "spark"

    def __init__(self, master: str, conf: dict[str, str] | None = None) -> None:
        try:
            import sqlglot
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError("[engine] kind = \"spark\" needs PySpark and sqlglot: "
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
            raise ConfigError(f"[engine] cannot start Spark at {master}: {first_line(exc)}") from None
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
            raise EngineError(first_line(exc)) from None

    def _df(self, query: str) -> Any:
        try:
            return self.spark.sql(self.sql(query))
        except EngineError:
            raise
        except Exception as exc:  # AnalysisException, ParseException, Py4JJavaError
            raise EngineError(first_line(exc)) from None

    def execute(self, query: str) -> None:
        self._collect(self._df(query))

    def _collect(self, df: Any) -> list:
        try:
            return df.collect()
        except Exception as exc:
            raise EngineError(first_line(exc)) from None

    def rows(self, query: str) -> list[tuple]:
        return [tuple(r) for r in self._collect(self._df(query))]

    def frame(self, query: str) -> pd.DataFrame:
        try:
            # Arrow hands over read-only buffers; the analysis fills and edits frames in place.
            frame = self._df(query).toPandas().copy(deep=True)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(first_line(exc)) from None
        for col in frame.columns:  # dates and decimals come back as Python objects; DuckDB gives numpy types
            if frame[col].dtype != object or frame[col].isna().all():
                continue
            first = frame[col].dropna().iloc[0]
            if isinstance(first, Decimal):
                frame[col] = frame[col].astype(float)
            elif isinstance(first, datetime.date):
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
            raise EngineError(first_line(exc)) from None
        self._replace(name, df)

    def drop(self, name: str) -> None:
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def parse_date(self, text_expr: str, strftime_format: str) -> str:
        return f"CAST(try_to_timestamp({text_expr}, {sql_literal(java_date_format(strftime_format))}) AS DATE)"

    def read_csv(self, name: str, path: Path, sep: str, encoding: str, workdir: Path, parallel: bool = True) -> bool:

        # Spark's CSV reader knows UTF-8/16/32 and Latin-1 only: a 1C export in cp1251 is re-encoded first
        # (the copy sits in the local work folder, so this path is for files beside the driver).
        readable = path if encoding == "utf-8" else transcode(path, encoding, workdir)
        reader = self.spark.read.options(header=True, sep=sep, encoding="utf-8", quote='"', escape='"',
                                         mode="PERMISSIVE", inferSchema=False)
        return self._numbered(name, lambda: reader.csv(str(readable)))

    def read_parquet(self, name: str, path: Path) -> bool:
        return self._numbered(name, lambda: self.spark.read.parquet(str(path)))

    def read_sql(self, name: str, query: str) -> bool:
        return self._numbered(name, lambda: self.spark.sql(query))  # the user's query, in Spark's own dialect

    def _numbered(self, name: str, read: Callable[[], Any]) -> bool:
        """View `name` over what `read` returns, with an ordinal `_line` (see Engine.line_number)."""
        from pyspark.sql import functions as F

        try:
            df = read()
        except Exception as exc:
            raise EngineError(first_line(exc)) from None
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
            raise EngineError(first_line(exc)) from None

    def close(self) -> None:
        for df in self._cached.values():
            df.unpersist()
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()


def _duckdb_type(spark_type: str) -> str:
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return _SPARK_TYPES.get(spark_type, spark_type.upper())
