"""The engine interface: a small surface every query engine implements.

Queries are written once in DuckDB SQL with ``$name`` parameters. DuckDB runs them as
they are; Spark runs them after :func:`epicenter.engine.dialect.to_spark`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa


class Engine(ABC):
    """A query engine over the warehouse's Parquet files."""

    name: str = "abstract"

    @abstractmethod
    def register_parquet(self, name: str, paths: Sequence[str], schema: pa.Schema) -> None:
        """Expose Parquet files as a view ``name``; no files gives an empty view of ``schema``."""

    @abstractmethod
    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Expose an in-memory Arrow table as a view ``name``."""

    @abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run DuckDB-dialect SQL and return the result as Arrow."""

    def create_view(self, name: str, sql: str) -> None:
        """Define a view from DuckDB-dialect SQL (no parameters)."""
        self.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
