"""The embedded default engine: DuckDB over Parquet. The only module importing duckdb."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from epicenter.engine.base import Engine


def _quote_list(paths: Sequence[str]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


class Session:
    """A DuckDB connection for data-processing jobs (ingest, generators, catalog).

    Thin on purpose: SQL in, Arrow or rows out. Code outside ``engine/`` uses this
    instead of importing duckdb.
    """

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        read_only: bool = False,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
    ) -> None:
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = str(temp_directory)
        self.con = duckdb.connect(str(database), read_only=read_only, config=config)
        self.con.execute("SET TimeZone = 'UTC'")  # stored times are local wall clock; no shifts

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def rows(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> list[tuple]:
        cur = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        return cur.fetchall()

    def scalar(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> Any:
        row = self.rows(sql, params)
        return row[0][0] if row else None

    def arrow(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params).to_arrow_table()

    def batches(
        self, sql: str, params: Mapping[str, Any] | None = None, batch_size: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a result in Arrow record batches (bounded memory)."""
        yield from self.con.sql(sql, params=params).to_arrow_reader(batch_size)

    def register(self, name: str, table: pa.Table | pa.RecordBatchReader) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, threads: int = 2, memory_limit: str = "8GB",
                 temp_directory: str | Path | None = None) -> None:
        # spill under the data home, not DuckDB's default ``./.tmp`` in the caller's folder
        self.session = Session(threads=threads, memory_limit=memory_limit,
                               temp_directory=temp_directory)

    def register_parquet(self, name: str, paths: Sequence[str], schema: pa.Schema) -> None:
        if paths:
            self.session.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet("
                f"{_quote_list(paths)}, union_by_name = true)"
            )
        else:
            self.register_arrow(name, schema.empty_table())

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.session.register(f"__arrow_{name}", table)
        self.session.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM __arrow_{name}")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.session.arrow(sql, dict(params) if params else None)

    def execute(self, sql: str) -> None:
        self.session.execute(sql)

    def close(self) -> None:
        self.session.close()
