"""The catalog: a DuckDB file recording every ingested batch and the files it made visible.

A file is part of the warehouse only once its batch row is committed here; that single
transaction is the moment a batch becomes visible, which is what makes writes atomic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from epicenter.engine import Session

CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_file VARCHAR,
    content_hash VARCHAR,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    rows_duplicate BIGINT,
    started_at TIMESTAMP,
    committed_at TIMESTAMP,
    details VARCHAR
);
CREATE TABLE IF NOT EXISTS files (
    batch_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    rows BIGINT,
    day DATE
);
"""

BATCH_COLUMNS = (
    "batch_id", "kind", "source_file", "content_hash", "rows_read", "rows_loaded",
    "rows_quarantined", "rows_duplicate", "started_at", "committed_at", "details",
)


class Catalog:
    """Open briefly, do one thing, close: DuckDB allows one writing process per file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _session(self, read_only: bool = False) -> Session:
        if read_only and not self.path.exists():
            read_only = False
        s = Session(self.path, read_only=read_only)
        if not read_only:
            s.execute(CATALOG_DDL)
        return s

    def commit_batch(self, batch: dict[str, Any], files: list[dict[str, Any]]) -> None:
        """Record a batch and its files in one transaction (the visibility point)."""
        row = {k: batch.get(k) for k in BATCH_COLUMNS}
        if isinstance(row["details"], dict | list):
            row["details"] = json.dumps(row["details"], ensure_ascii=False, default=str)
        with self._session() as s, s.transaction():
            s.execute(
                f"INSERT INTO batches ({', '.join(BATCH_COLUMNS)}) VALUES "
                f"({', '.join('$' + c for c in BATCH_COLUMNS)})",
                row,
            )
            for f in files:
                s.execute(
                    "INSERT INTO files VALUES ($batch_id, $table_name, $path, $rows, $day)",
                    {"batch_id": batch["batch_id"], **f},
                )

    def find_batch(self, kind: str, content_hash: str) -> dict[str, Any] | None:
        with self._session(read_only=True) as s:
            rows = s.arrow(
                "SELECT * FROM batches WHERE kind = $kind AND content_hash = $h",
                {"kind": kind, "h": content_hash},
            ).to_pylist()
        return rows[0] if rows else None

    def batches(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._session(read_only=True) as s:
            return s.arrow("SELECT * FROM batches ORDER BY committed_at, batch_id").to_pylist()

    def table_files(self) -> dict[str, list[str]]:
        """Committed files per table, relative to the data home."""
        if not self.path.exists():
            return {}
        with self._session(read_only=True) as s:
            rows = s.rows("SELECT table_name, path FROM files ORDER BY table_name, path")
        out: dict[str, list[str]] = {}
        for table, path in rows:
            out.setdefault(table, []).append(path)
        return out

    def table_counts(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        with self._session(read_only=True) as s:
            return dict(s.rows("SELECT table_name, sum(rows) FROM files GROUP BY 1 ORDER BY 1"))
