"""The warehouse: raw deliveries, curated Parquet tables, quarantine, and the catalog."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from epicenter.engine import Engine, get_engine
from epicenter.schema import CASES_VIEW_SQL, QUARANTINE_SCHEMA, TABLES, VAULT_ZONE_TABLES
from epicenter.warehouse.batch import Batch
from epicenter.warehouse.catalog import Catalog

ZONES = ("raw", "curated", "quarantine")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class Warehouse:
    def __init__(self, home: Path | str) -> None:
        self.home = Path(home)
        self.catalog = Catalog(self.home / "catalog.duckdb")

    def init(self) -> Warehouse:
        for zone in ZONES:
            (self.home / zone).mkdir(parents=True, exist_ok=True)
        return self

    @property
    def exists(self) -> bool:
        return self.catalog.path.exists()

    @contextmanager
    def batch(self, kind: str, source_file: str | None = None,
              content_hash: str | None = None) -> Iterator[Batch]:
        """Stage a batch; the caller calls ``commit(...)``; an exception aborts it."""
        self.init()
        b = Batch(self, kind, source_file, content_hash)
        try:
            yield b
        except BaseException:
            b.abort()
            raise

    def keep_raw(self, path: Path, kind: str, content_hash: str) -> Path:
        """Copy a delivered file into raw/ as received, named by its checksum."""
        dest = self.home / "raw" / kind / f"{content_hash[:16]}-{path.name}"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".part")
            shutil.copyfile(path, tmp)
            tmp.replace(dest)
        return dest

    def recover(self) -> dict[str, int]:
        """Remove what a crashed write left behind: staging folders and uncatalogued files."""
        removed = {"staging": 0, "orphans": 0}
        staging = self.home / "_staging"
        if staging.exists():
            for d in staging.iterdir():
                shutil.rmtree(d, ignore_errors=True)
                removed["staging"] += 1
        known = {p for paths in self.catalog.table_files().values() for p in paths}
        for zone in ("curated", "quarantine", "vault"):
            base = self.home / zone
            if not base.exists():
                continue
            for f in base.rglob("*.parquet"):
                if str(f.relative_to(self.home)) not in known:
                    f.unlink()
                    removed["orphans"] += 1
        return removed

    def files(self) -> dict[str, list[str]]:
        return {t: [str(self.home / p) for p in ps] for t, ps in self.catalog.table_files().items()}

    def summary(self) -> dict[str, Any]:
        batches = self.catalog.batches()
        return {
            "home": str(self.home.resolve()),
            "batches": len(batches),
            "tables": self.catalog.table_counts(),
        }

    def open_engine(self, name: str = "duckdb", **options: Any) -> Engine:
        """An engine with every analytic table (and the ``cases`` view) registered.

        The vault zone (clear identifiers, row hashes, reveal audit) is never registered:
        analyses cannot select what they cannot see. Only ``epicenter.ingest.identity``
        reads it, through an audited function.
        """
        if name == "duckdb":
            options.setdefault("temp_directory", self.home / "_tmp")
        engine = get_engine(name, **options)
        files = self.files()
        for table, schema in TABLES.items():
            if table in VAULT_ZONE_TABLES:
                continue
            engine.register_parquet(table, files.get(table, []), schema)
        engine.register_parquet("quarantine", files.get("quarantine", []), QUARANTINE_SCHEMA)
        engine.create_view("cases", CASES_VIEW_SQL)
        return engine


__all__ = ["Warehouse", "Batch", "Catalog", "file_sha256"]
