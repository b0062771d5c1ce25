"""Ingest one delivered file: read, validate, deduplicate, pseudonymise, derive, publish.

All heavy lifting is DuckDB SQL over a temp table of the file's rows; nothing row-sized
passes through Python. The batch is published atomically by the warehouse: a crash at any
point leaves nothing visible, and the file's content hash makes a re-run a no-op once the
batch is committed (``Warehouse.recover`` clears what a killed run left behind).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from epicenter.engine import Session
from epicenter.ingest import accounting, derive, identity
from epicenter.ingest.dwell import venue_table_sql
from epicenter.ingest.errors import IngestError
from epicenter.ingest.kinds import DATE, ID_NO, PHONE, TIME, Kind, get_kind
from epicenter.ingest.mapping import Mapping
from epicenter.ingest.reader import fast_read_failed, open_source, scan_file
from epicenter.ingest.shapes import ingest_shapes
from epicenter.ingest.validate import (
    build_plan,
    delivered_count_sql,
    lit,
    materialise_sql,
    reasons_sql,
)
from epicenter.privacy import Pseudonymizer
from epicenter.settings import Settings
from epicenter.warehouse import Warehouse

MAX_MEMORY_BYTES = 3 * 1024**3  # stays below 4 GB peak whatever the settings say
# Parquet dictionaries only for columns with few distinct values per row group (kinds,
# batch ids, days): for person keys, cell ids and row hashes the writer would build a
# dictionary, find it too big and fall back to plain anyway, costing about a third of
# the write time. Format version 2 (delta encodings) with ZSTD level 1: Snappy, the
# default, spends half the write time compressing 64-hex-digit person keys by 3 %;
# this writes faster and the files are about half the size (DuckDB, pyarrow and
# Spark 4 read them)
PARQUET = "FORMAT parquet, DICTIONARY_SIZE_LIMIT 1000, PARQUET_VERSION v2, COMPRESSION zstd, COMPRESSION_LEVEL 1"
Progress = Callable[[str], None]


def _memory_limit(setting: str) -> str:
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)i?B?\s*", setting.upper())
    if not m:
        return "3GB"
    size = float(m.group(1)) * 1024 ** "BKMGT".index(m.group(2) or "B")
    return setting if size <= MAX_MEMORY_BYTES else "3GB"


def session_for(settings: Settings, warehouse: Warehouse) -> Session:
    spill = warehouse.home / "_tmp"
    spill.mkdir(parents=True, exist_ok=True)
    session = Session(threads=settings.threads, memory_limit=_memory_limit(settings.memory_limit),
                      temp_directory=spill)
    session.execute("SET enable_progress_bar = false")
    return session


MAX_PLAIN_DAYS = 3  # more days than this in one batch: DuckDB's partitioned writer


def _copy(session: Session, sql: str, target: Path, partitioned: bool,
          day_sql: str | None = None, day_source: str = "t WHERE ok AND NOT dup") -> None:
    if partitioned and day_sql:
        # a delivery usually covers a day or two: then one plain file per day= folder is
        # much cheaper than DuckDB's partitioned writer
        days = session.rows(f"SELECT DISTINCT {day_sql} FROM {day_source} LIMIT {MAX_PLAIN_DAYS + 1}")
        if 0 < len(days) <= MAX_PLAIN_DAYS and all(d[0] is not None for d in days):
            for (day,) in days:
                folder = target / f"day={day.isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                where = "" if len(days) == 1 else f" WHERE day = DATE {lit(day.isoformat())}"
                session.execute(f"COPY (SELECT * EXCLUDE (day) FROM ({sql}){where}) TO "
                                f"{lit(str(folder / 'part-0.parquet'))} ({PARQUET})")
            return
    if partitioned:
        session.execute(f"COPY ({sql}) TO {lit(str(target))} ({PARQUET}, "
                        "PARTITION_BY (day), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)")
    else:
        session.execute(f"COPY ({sql}) TO {lit(str(target / 'part-0.parquet'))} ({PARQUET})")


def _reference_tables(session: Session, files: dict[str, list[str]], kind: Kind) -> tuple[dict, list]:
    """Temp tables of known codes per reference column; warnings for unloaded references."""
    refs: dict[str, str] = {}
    warnings: list[str] = []
    for col in kind.cols:
        if not col.ref:
            continue
        table, key = col.ref
        parts = []
        if files.get(table):
            parts.append(f"SELECT {key} AS code FROM read_parquet({identity.parquet_list(files[table])})")
        if table == kind.name:  # self-reference (area.parent_code): this file's codes count
            parts.append("SELECT nullif(trim(r_self), '') AS code FROM src_keys")
        if not parts:
            warnings.append(f"{col.name} not checked: no {table} loaded yet")
            continue
        session.execute(f"CREATE OR REPLACE TEMP TABLE ref_{col.name} AS SELECT DISTINCT code "
                        f"FROM ({' UNION ALL '.join(parts)}) WHERE code IS NOT NULL")
        refs[col.name] = f"ref_{col.name}"
    return refs, warnings


def _loaded_keys(files: dict[str, list[str]], kind: Kind) -> str | None:
    if kind.name == "person":
        if not files.get("person"):
            return None
        return (f"SELECT v.id_no AS k FROM {identity.vault_relation(files)} v JOIN "
                f"read_parquet({identity.parquet_list(files['person'])}) p USING (person_key) "
                "WHERE p.registered")
    if not files.get(kind.name):
        return None
    return f"SELECT {kind.key} AS k FROM read_parquet({identity.parquet_list(files[kind.name])})"


def ingest_file(settings: Settings, kind_name: str, path: Path | str,
                mapping: Mapping | None = None, progress: Progress | None = None,
                recover: bool = True) -> dict[str, Any]:
    """Ingest one file as one batch; returns the catalog record (``skipped`` if known).

    ``recover`` first clears what a killed earlier run left (callers ingesting many
    files do that once, then pass False)."""
    path = Path(path)
    kind = get_kind(kind_name)
    step = progress or (lambda _msg: None)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    warehouse = settings.warehouse.init()
    if recover:
        warehouse.recover()
    step("hashing")
    scan = scan_file(path)
    known = warehouse.catalog.find_batch(kind.name, scan.sha256)
    if known:
        return {**known, "skipped": True}
    if kind.name == "area_shape":
        return ingest_shapes(settings, warehouse, path, scan.sha256)
    mapping = mapping or Mapping(kind=kind.name)
    pseudo = Pseudonymizer.from_settings(settings)
    with session_for(settings, warehouse) as s, \
            warehouse.batch(kind.name, str(path), scan.sha256) as batch:
        step("reading")
        source = open_source(s, path, mapping, scan, batch.staging)
        if any(c.ref and c.ref[0] == kind.name for c in kind.cols):
            key_col = source.column(mapping.delivered(kind.key))
            s.execute(f"CREATE OR REPLACE TEMP TABLE src_keys AS SELECT {key_col or 'NULL'} AS r_self FROM src")
        files = warehouse.files()  # one snapshot of the catalog for the whole batch
        refs, warnings = _reference_tables(s, files, kind)
        plan = build_plan(kind, mapping, source, str(path), settings.timezone, refs)
        step("validating")
        for sql in materialise_sql(plan, mapping):
            s.execute(sql)
        if fast_read_failed(s, source, scan, s.scalar("SELECT count(*) FROM t0")):
            # blank lines or malformed rows: re-read keeping physical line numbers
            source = open_source(s, path, mapping, scan, batch.staging, fast=False)
            for sql in materialise_sql(plan, mapping):
                s.execute(sql)
        # line numbers are fixed now: later steps may run (and write) in any order
        s.execute("SET preserve_insertion_order = false")
        accounting.mark_duplicates(s, files, kind.name)
        if kind.reference and kind.key:
            accounting.check_reference_keys(s, kind, "v_id_no" if kind.name == "person"
                                            else None, _loaded_keys(files, kind))
        _publish(s, settings, files, batch, kind, plan, pseudo, step)
        read, dups, bad = s.rows("SELECT count(*), count(*) FILTER (WHERE dup), "
                                 "count(*) FILTER (WHERE NOT ok AND NOT dup) FROM t")[0]
        batch.details = {"warnings": warnings, "encoding": mapping.encoding,
                         "mapped": bool(mapping.columns or mapping.values),
                         "columns": list(source.header), **batch_stats(s, settings, kind, refs)}
        warehouse.keep_raw(path, kind.name, scan.sha256)
        step("committing")
        return batch.commit(rows_read=read, rows_loaded=read - dups - bad, rows_quarantined=bad,
                            rows_duplicate=dups)


def _publish(s: Session, settings: Settings, files: dict[str, list[str]], batch, kind: Kind, plan,
             pseudo: Pseudonymizer, step: Progress) -> None:
    """Stage canonical rows, vault rows, quarantine and row hashes of the batch."""
    has_id = any(c.type == ID_NO for c in kind.cols)
    has_phone = any(c.type == PHONE for c in kind.cols)
    if has_id or has_phone:
        step("pseudonymising")
        identity.build_keys(s, pseudo, files, has_id, has_phone,
                            links_from_batch=kind.name == "person",
                            person_ids=kind.name == "venue_scan")
    key_expr, joins = identity.person_key_sql(has_id, has_phone) if (has_id or has_phone) \
        else ("NULL", "")
    s.execute(f"CREATE OR REPLACE TEMP VIEW good AS SELECT t.*, {key_expr} AS person_key "
              f"FROM t {joins} WHERE t.ok AND NOT t.dup")
    step("writing")
    if kind.name == "person":
        addresses = s.arrow("SELECT DISTINCT v_home_address AS a FROM good "
                            "WHERE v_home_address IS NOT NULL").column("a").combine_chunks()
        identity.hash_into(s, "keys_addr", "address", addresses, pseudo.household_key,
                           key_column="household_key")
        outs = derive.person_outputs()
    else:
        outs = derive.outputs(kind, batch.batch_id, settings.ping_pong_seconds,
                              settings.ping_gap_minutes)
        if kind.name == "venue_scan":
            venues = files.get("venue")
            s.execute(venue_table_sql(f"read_parquet({identity.parquet_list(venues)})" if venues else None,
                                      batch_venues="venue_code" not in plan.refs))
    for out in outs:
        for sql in out.prepare:
            s.execute(sql)
        _copy(s, out.sql, batch.stage_dir(out.table), out.partitioned, out.day_sql, out.day_source)
    if (has_id or has_phone) and kind.name != "person":
        new = identity.new_identities_sql()
        if s.scalar(f"SELECT count(*) FROM ({new})"):
            _copy(s, new, batch.stage_dir("identity_vault"), False)
            _copy(s, derive.unregistered_person_sql(new), batch.stage_dir("person"), False)
    if s.scalar("SELECT count(*) FROM t WHERE dup OR NOT ok"):
        _copy(s, accounting.quarantine_sql(kind, reasons_sql(plan), batch.batch_id,
                                           batch.source_file), batch.stage_dir("quarantine"), False)
    hashes = batch.stage_dir(accounting.HASHES) / f"kind={kind.name}"
    hashes.mkdir(parents=True, exist_ok=True)
    _copy(s, accounting.new_hashes_sql(batch.batch_id), hashes, False)


def batch_stats(s: Session, settings: Settings, kind: Kind, refs: dict[str, str]) -> dict:
    """Per-batch figures for the quality report: completeness of each field and
    unresolved references over the distinct rows, delivery lag over the loaded rows."""
    names = kind.names
    cols = [delivered_count_sql(kind, n) for n in names] + \
        [f"count(*) FILTER (WHERE m_{r})" for r in refs]
    row = s.rows(f"SELECT count(*), {', '.join(cols)} FROM t WHERE NOT dup")[0]
    stats: dict[str, Any] = {
        "distinct_rows": row[0],
        "non_null": dict(zip(names, row[1:1 + len(names)], strict=True)),
        "unresolved": dict(zip(refs, row[1 + len(names):], strict=True)),
    }
    event = next((c.name for c in kind.cols if c.type == TIME), None) or \
        next((c.name for c in kind.cols if c.type == DATE), None)
    if event and not kind.reference:
        now = f"timezone({lit(settings.timezone)}, now())"
        lag = s.rows(f"SELECT approx_quantile(h, [0.5, 0.9]), max(h) FROM (SELECT "
                     f"epoch({now} - CAST(v_{event} AS TIMESTAMP)) / 3600.0 AS h "
                     f"FROM t WHERE ok AND NOT dup AND v_{event} IS NOT NULL)")[0]
        if lag[0] is not None:
            stats["lag_hours"] = {"p50": lag[0][0], "p90": lag[0][1], "max": lag[1],
                                  "event_column": event}
    return stats
