"""Area shapes: a GeoJSON FeatureCollection -> ``area_shape`` (area_code, geometry text).

GeoJSON has no lines in the CSV sense; a feature's "line" is its 1-based position in
the collection, which is what the quarantine records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from epicenter.ingest.errors import IngestError
from epicenter.schema import QUARANTINE_SCHEMA, TABLES
from epicenter.warehouse import Warehouse

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


def _known_areas(warehouse: Warehouse) -> set[str] | None:
    files = warehouse.files().get("area")
    if not files:
        return None
    import pyarrow.parquet as pq

    return {c for f in files for c in pq.read_table(f, columns=["area_code"]).column(0).to_pylist()}


def _problems(feature: Any, known: set[str] | None, seen: dict[str, int]) -> tuple[str | None, list[str]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, ["not a GeoJSON Feature"]
    props = feature.get("properties") or {}
    code = props.get("area_code")
    code = str(code).strip() if code not in (None, "") else None
    reasons = []
    if code is None:
        reasons.append("missing area_code")
    elif known is not None and code not in known:
        reasons.append(f"area_code: unknown area '{code}'")
    elif code in seen:
        reasons.append(f"area_code {code} repeated (first at feature {seen[code]})")
    geom = feature.get("geometry") or {}
    if geom.get("type") not in GEOMETRY_TYPES:
        reasons.append(f"geometry: {geom.get('type')!r} is not Polygon or MultiPolygon")
    elif not isinstance(geom.get("coordinates"), list) or not geom["coordinates"]:
        reasons.append("geometry: no coordinates")
    return code, reasons


def ingest_shapes(settings, warehouse: Warehouse, path: Path, content_hash: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IngestError(f"{path}: not a readable GeoJSON file: {err}") from err
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise IngestError(f"{path}: expected a GeoJSON FeatureCollection")
    known = _known_areas(warehouse)
    good, bad, seen = [], [], {}
    for i, feature in enumerate(data.get("features") or [], start=1):
        code, reasons = _problems(feature, known, seen)
        if reasons:
            bad.append((i, reasons, code))
        else:
            seen[code] = i
            good.append({"area_code": code, "geometry": json.dumps(feature["geometry"])})
    with warehouse.batch("area_shape", str(path), content_hash) as batch:
        batch.write("area_shape", pa.Table.from_pylist(good, schema=TABLES["area_shape"]))
        batch.write("quarantine", pa.Table.from_pylist([{
            "source": "area_shape", "batch_id": batch.batch_id, "source_file": str(path),
            "line_no": i, "disposition": "rejected", "reasons": reasons,
            "record": json.dumps({"area_code": code}, ensure_ascii=False),
        } for i, reasons, code in bad], schema=QUARANTINE_SCHEMA))
        batch.details = {"warnings": [] if known is not None else
                         ["area_code not checked: no area loaded yet"]}
        warehouse.keep_raw(path, "area_shape", content_hash)
        n = len(good) + len(bad)
        return batch.commit(rows_read=n, rows_loaded=len(good), rows_quarantined=len(bad),
                            rows_duplicate=0)
