"""The trace index: a memory-mapped stays index (``trace.stayindex``) with its lifecycle.

Case-driven tracing asks, for a few persons, who else was at their places at their times:
point lookups. The index answers them in milliseconds; the rules' SQL then runs on the
small candidate tables it returns, registered under the view names the rules read:

* ``trace_stays_person`` (:data:`PERSON_VIEW`): the seed persons' own stays;
* ``trace_stays_place`` (:data:`PLACE_VIEW`): everyone's stays at those places that can
  overlap the seeds' stays (a superset: every rule predicate is still applied in SQL).

Without an index (and always on Spark) both views alias the plain ``stays``, so the same
SQL runs everywhere and answers are identical; tests compare them. The index lives in
``<home>/index/``, is written to a temporary folder and renamed into place (a reader never
sees half of it), and carries a stamp of the stays files it was built from: once a later
ingest adds files the stamp no longer matches and the trace commands rebuild it (or the
plain tables are used).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from weakref import WeakKeyDictionary

from epicenter.engine import Engine
from epicenter.trace import stayindex
from epicenter.trace.stayindex import StayIndex
from epicenter.warehouse import Warehouse

INDEX_DIR = "index"
MANIFEST = "manifest.json"
# view names the trace queries read; without an index they alias the plain ``stays``
PLACE_VIEW = "trace_stays_place"
PERSON_VIEW = "trace_stays_person"
FORMAT_VERSION = 2  # 1 was two sorted Parquet copies; 2 the memory-mapped index

_registered: WeakKeyDictionary[Engine, StayIndex | None] = WeakKeyDictionary()
# opened indexes by (folder, stamp): dictionaries and key arrays are mapped once per process
_open: dict[tuple[str, str], StayIndex] = {}


def index_dir(home: Path | str) -> Path:
    return Path(home) / INDEX_DIR


def stamp(warehouse: Warehouse) -> str:
    """What the index must cover: the catalogued stays files (ingest only ever adds files)."""
    files = sorted(warehouse.catalog.table_files().get("stays", []))
    payload = json.dumps({"version": FORMAT_VERSION, "stays": files})
    return hashlib.sha256(payload.encode()).hexdigest()


def _manifest(warehouse: Warehouse) -> dict | None:
    try:
        return json.loads((index_dir(warehouse.home) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def is_fresh(warehouse: Warehouse) -> bool:
    meta = _manifest(warehouse)
    return meta is not None and meta.get("stamp") == stamp(warehouse)


def build_index(warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> dict:
    """(Re)build the index of ``warehouse``; returns the manifest written."""
    say = progress or (lambda _msg: None)
    files = sorted(warehouse.files().get("stays", []))
    target = index_dir(warehouse.home)
    tmp = warehouse.home / "_tmp" / f"index-{stamp(warehouse)[:12]}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    say(f"trace index: reading {len(files)} stays file(s)")
    t = time.perf_counter()
    rows = stayindex.build(files, tmp, say)
    manifest = {"stamp": stamp(warehouse), "version": FORMAT_VERSION, "stays_files": len(files),
                "rows": rows, "build_s": round(time.perf_counter() - t, 1)}
    # the manifest is written last: a folder without one is never taken for an index
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    # swap: the old index moves aside first, so a reader sees either the old or the new one
    old = warehouse.home / "_tmp" / f"index-old-{manifest['stamp'][:12]}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    say(f"trace index: {rows:,} stays indexed in {target}")
    return manifest


def open_index(warehouse: Warehouse) -> StayIndex | None:
    """The warehouse's index when fresh (opened once per process), else None."""
    meta = _manifest(warehouse)
    if meta is None or meta.get("stamp") != stamp(warehouse):
        return None
    key = (str(index_dir(warehouse.home).resolve()), meta["stamp"])
    if key not in _open:
        _open.clear()  # one warehouse at a time: an index replaced on disk is let go
        _open[key] = StayIndex(index_dir(warehouse.home))
    return _open[key]


def register(engine: Engine, warehouse: Warehouse | None, build: bool = False,
             progress: Callable[[str], None] | None = None) -> bool:
    """Define the trace views on ``engine``: the index when fresh, else the plain ``stays``.

    With ``build`` a missing or stale index is built first (DuckDB only: Spark reads the
    plain tables, which its own partitioned scans handle). Returns whether the index is used.
    """
    index = None
    if warehouse is not None and engine.name == "duckdb":
        if build and not is_fresh(warehouse):
            build_index(warehouse, progress)
        index = open_index(warehouse)
    # the views alias ``stays`` until a query replaces them with the index's candidates
    for view in (PLACE_VIEW, PERSON_VIEW):
        engine.create_view(view, "SELECT * FROM stays")
    _registered[engine] = index
    return index is not None


def attached(engine: Engine) -> StayIndex | None:
    """The index registered on ``engine``, if any."""
    return _registered.get(engine)


def ensure_views(engine: Engine) -> None:
    """Alias the trace views to ``stays`` on an engine nobody registered an index on."""
    if engine not in _registered:
        register(engine, None)
