"""The trace index: derived, sorted copies of ``stays`` that let case-driven queries prune.

Ingestion writes each day's stays in arrival order, so Parquet min/max statistics (zone
maps) of a row group cover almost every place and person, and a query for one case reads
every row of the window. The index holds the same rows twice, re-sorted:

* ``stays_by_place.parquet``: by (place_kind, place_id, start_time) -- the contact side
  (``place_id IN <the case's places>``) then touches a few row groups;
* ``stays_by_person.parquet``: by (person_key, start_time) -- the case's own stays.

Both are plain copies (same columns, same rows), so answers are identical with or without
the index; tests compare them. The index lives in ``<home>/index/``, is written to a
temporary folder and renamed into place (a reader never sees half of it), and carries a
stamp of the stays files it was built from: once a later ingest adds files the stamp no
longer matches and the trace commands rebuild it (or the plain tables are used).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from weakref import WeakKeyDictionary

from epicenter.engine import Engine, Session
from epicenter.schema import TABLES
from epicenter.warehouse import Warehouse

INDEX_DIR = "index"
MANIFEST = "manifest.json"
BY_PLACE = "stays_by_place.parquet"
BY_PERSON = "stays_by_person.parquet"
# view names the trace queries read; without an index they alias the plain ``stays``
PLACE_VIEW = "trace_stays_place"
PERSON_VIEW = "trace_stays_person"
# small row groups: one case touches tens of places, each in one or two groups
ROW_GROUP_ROWS = 32_768
FORMAT_VERSION = 1

_registered: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def index_dir(home: Path | str) -> Path:
    return Path(home) / INDEX_DIR


def stamp(warehouse: Warehouse) -> str:
    """What the index must cover: the catalogued stays files (ingest only ever adds files)."""
    files = sorted(warehouse.catalog.table_files().get("stays", []))
    payload = json.dumps({"version": FORMAT_VERSION, "stays": files})
    return hashlib.sha256(payload.encode()).hexdigest()


def is_fresh(warehouse: Warehouse) -> bool:
    manifest = index_dir(warehouse.home) / MANIFEST
    if not manifest.exists():
        return False
    try:
        meta = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    done = all((index_dir(warehouse.home) / f).exists() for f in (BY_PLACE, BY_PERSON))
    return done and meta.get("stamp") == stamp(warehouse)


def _copy_sorted(session: Session, files: list[str], order: str, dest: Path) -> None:
    session.execute("SET enable_progress_bar = false")
    cols = ", ".join(TABLES["stays"].names)
    listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    session.execute(
        f"COPY (SELECT {cols} FROM read_parquet({listing}, union_by_name = true) ORDER BY {order}) "
        f"TO '{dest}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, COMPRESSION zstd)")


def build_index(warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> dict:
    """(Re)build the index of ``warehouse``; returns the manifest written."""
    say = progress or (lambda _msg: None)
    files = warehouse.files().get("stays", [])
    target = index_dir(warehouse.home)
    tmp = warehouse.home / "_tmp" / f"index-{stamp(warehouse)[:12]}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    manifest = {"stamp": stamp(warehouse), "version": FORMAT_VERSION, "stays_files": len(files),
                "rows": 0, "row_group_rows": ROW_GROUP_ROWS}
    if files:
        spill = tmp / "spill"
        with Session(threads=2, memory_limit="6GB", temp_directory=spill) as session:
            say(f"trace index: sorting {len(files)} stays file(s) by place")
            _copy_sorted(session, files, "place_kind, place_id, start_time, person_key",
                         tmp / BY_PLACE)
            say("trace index: sorting by person")
            _copy_sorted(session, files, "person_key, start_time, place_kind, place_id",
                         tmp / BY_PERSON)
            manifest["rows"] = int(session.scalar(
                f"SELECT count(*) FROM read_parquet('{tmp / BY_PLACE}')"))
        shutil.rmtree(spill, ignore_errors=True)
    else:
        # an empty warehouse: empty files keep the views' schema
        with Session() as session:
            session.register("empty_stays", TABLES["stays"].empty_table())
            for name in (BY_PLACE, BY_PERSON):
                session.execute(f"COPY (SELECT * FROM empty_stays) TO '{tmp / name}' (FORMAT parquet)")
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    # swap: the old index moves aside first, so a reader sees either the old or the new one
    old = warehouse.home / "_tmp" / f"index-old-{manifest['stamp'][:12]}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    say(f"trace index: {manifest['rows']:,} stays indexed in {target}")
    return manifest


def register(engine: Engine, warehouse: Warehouse | None, build: bool = False,
             progress: Callable[[str], None] | None = None) -> bool:
    """Define the trace views on ``engine``: the index when fresh, else the plain ``stays``.

    With ``build`` a missing or stale index is built first (DuckDB only: Spark reads the
    plain tables, which its own partitioned scans handle). Returns whether the index is used.
    """
    use = False
    if warehouse is not None and engine.name == "duckdb":
        if build and not is_fresh(warehouse):
            build_index(warehouse, progress)
        use = is_fresh(warehouse)
    if use:
        base = index_dir(warehouse.home)
        for view, name in ((PLACE_VIEW, BY_PLACE), (PERSON_VIEW, BY_PERSON)):
            engine.register_parquet(view, [str(base / name)], TABLES["stays"])
    else:
        for view in (PLACE_VIEW, PERSON_VIEW):
            engine.create_view(view, "SELECT * FROM stays")
    _registered[engine] = use
    return use


def ensure_views(engine: Engine) -> None:
    """Alias the trace views to ``stays`` on an engine nobody registered an index on."""
    if engine not in _registered:
        register(engine, None)
