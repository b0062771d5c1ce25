"""Scale-out engine: Apache Spark reading the same Parquet files.

Imported lazily by :func:`epicenter.engine.get_engine`; the only module importing pyspark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from epicenter.engine.base import Engine
from epicenter.engine.dialect import to_spark

try:
    from pyspark.sql import SparkSession
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "The Spark engine needs the 'spark' extra: pip install 'epicenter[spark]' "
        "(and a Java 17+ runtime)."
    ) from err

_SESSION: SparkSession | None = None


def spark_session(master: str = "local[2]") -> SparkSession:
    """One shared session per process: starting a JVM costs seconds."""
    global _SESSION
    if _SESSION is None:
        _SESSION = (
            SparkSession.builder.master(master)
            .appName("epicenter")
            .config("spark.sql.session.timeZone", "UTC")
            # DuckDB's TIMESTAMP has no zone; make Spark's TIMESTAMP mean the same
            .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def _table_root(paths: Sequence[str]) -> str:
    """The folder above a table's hive partition folders (``.../stays`` for ``.../stays/day=.../x``)."""
    import os

    root = os.path.commonpath([os.path.dirname(str(p)) for p in paths])
    while "=" in os.path.basename(root):
        root = os.path.dirname(root)
    return root


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, master: str = "local[2]") -> None:
        self.spark = spark_session(master)
        self._views: list[str] = []

    def register_parquet(self, name: str, paths: Sequence[str], schema: pa.Schema) -> None:
        if paths:
            # basePath makes Spark read hive folders (day=...) as a column, as DuckDB does
            df = (self.spark.read.option("mergeSchema", "true")
                  .option("basePath", _table_root(paths))
                  .parquet(*[str(p) for p in paths]))
        else:
            df = self._empty(schema)
        df.createOrReplaceTempView(name)
        self._views.append(name)

    def _empty(self, schema: pa.Schema):
        return self.spark.createDataFrame(schema.empty_table())

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        self._views.append(name)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.spark.sql(to_spark(sql, params)).toArrow()

    def execute(self, sql: str) -> None:
        self.spark.sql(to_spark(sql))

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views.clear()
