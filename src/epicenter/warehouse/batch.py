"""Atomic batches: stage files, then publish them with one catalog transaction.

Protocol (crash-safe at every step):
1. files are written under ``_staging/<batch_id>/<table>/...`` (never read by queries);
2. on commit they are renamed into ``curated/`` or ``quarantine/`` (same file system, so
   each rename is atomic) under names that carry the batch id;
3. one catalog transaction records the batch and its files. Only catalogued files are
   visible to queries, so a crash before step 3 leaves nothing visible, and
   :meth:`Warehouse.recover` removes the orphans.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from epicenter.schema import DAY, VAULT_ZONE_TABLES

if TYPE_CHECKING:
    from epicenter.warehouse import Warehouse

QUARANTINE_TABLES = ("quarantine",)


def new_batch_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"b{stamp}-{uuid.uuid4().hex[:8]}"


class Batch:
    """One delivered file's worth of rows, published all at once or not at all."""

    def __init__(self, warehouse: Warehouse, kind: str, source_file: str | None,
                 content_hash: str | None, batch_id: str | None = None) -> None:
        self.warehouse = warehouse
        self.kind = kind
        self.source_file = source_file
        self.content_hash = content_hash
        self.batch_id = batch_id or new_batch_id()
        self.started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.staging = warehouse.home / "_staging" / self.batch_id
        self.staging.mkdir(parents=True, exist_ok=True)
        self.counts: dict[str, int] = {}
        self.details: dict[str, Any] = {}

    def stage_dir(self, table: str) -> Path:
        """A directory to write Parquet for ``table`` into (hive ``day=`` folders allowed)."""
        d = self.staging / table
        d.mkdir(parents=True, exist_ok=True)
        return d

    def write(self, table: str, data: pa.Table) -> None:
        """Stage an Arrow table, split by its ``day`` column when it has one."""
        if data.num_rows == 0:
            return
        target = self.stage_dir(table)
        if DAY in data.column_names:
            pq.write_to_dataset(
                data, target, partition_cols=[DAY],
                basename_template=f"part-{uuid.uuid4().hex[:6]}-{{i}}.parquet",
            )
        else:
            pq.write_table(data, target / f"part-{uuid.uuid4().hex[:6]}.parquet")

    def _publish_files(self) -> list[dict[str, Any]]:
        published: list[dict[str, Any]] = []
        for table_dir in sorted(p for p in self.staging.iterdir() if p.is_dir()):
            table = table_dir.name
            zone = ("quarantine" if table in QUARANTINE_TABLES
                    else "vault" if table in VAULT_ZONE_TABLES else "curated")
            for f in sorted(table_dir.rglob("*.parquet")):
                rel_parent = f.parent.relative_to(table_dir)
                day = None
                for part in rel_parent.parts:
                    if part.startswith(f"{DAY}="):
                        day = dt.date.fromisoformat(part.split("=", 1)[1])
                dest_dir = self.warehouse.home / zone / table / rel_parent
                dest_dir.mkdir(parents=True, exist_ok=True)
                dest = dest_dir / f"{self.batch_id}-{f.name}"
                rows = pq.read_metadata(f).num_rows
                os.replace(f, dest)
                published.append({
                    "table_name": table, "rows": rows, "day": day,
                    "path": str(dest.relative_to(self.warehouse.home)),
                })
        return published

    def commit(self, **counts: Any) -> dict[str, Any]:
        files = self._publish_files()
        record = {
            "batch_id": self.batch_id, "kind": self.kind, "source_file": self.source_file,
            "content_hash": self.content_hash, "started_at": self.started_at,
            "committed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "details": self.details, **counts,
        }
        self.warehouse.catalog.commit_batch(record, files)
        shutil.rmtree(self.staging, ignore_errors=True)
        return record

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
