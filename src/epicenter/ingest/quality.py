"""The data-quality report: per source, how much arrived, how good it is, how it links.

Figures come from the catalog (the accounting of every batch, with per-batch statistics
recorded at ingest) and from the canonical tables (volume by day, coverage of registered
persons, identity linkage). Nothing here reads a clear identifier.
"""

from __future__ import annotations

import json
from typing import Any

from epicenter.ingest.kinds import KINDS
from epicenter.warehouse import Warehouse

# canonical tables whose rows carry a source kind, with their person column (if any)
EVENT_TABLES = {"stays": "person_key", "legs": "person_key", "case_reports": "person_key",
                "meter_readings": None, "syndromic": None, "od_flow": None, "incidence": None}


def _details(batch: dict[str, Any]) -> dict[str, Any]:
    raw = batch.get("details")
    return json.loads(raw) if isinstance(raw, str) and raw else (raw or {})


def _accounting(batches: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for b in batches:
        if b["kind"] not in KINDS:
            continue  # e.g. reveal audit batches
        d = _details(b)
        s = out.setdefault(b["kind"], {
            "batches": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
            "rows_duplicate": 0, "invariant_violations": 0, "distinct_rows": 0,
            "non_null": {}, "unresolved": {}, "warnings": [], "lag_p50_hours": [],
            "lag_p90_hours": [], "last_ingest": None})
        s["batches"] += 1
        for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate"):
            s[k] += b.get(k) or 0
        if (b.get("rows_read") or 0) != sum(b.get(k) or 0 for k in
                                            ("rows_loaded", "rows_quarantined", "rows_duplicate")):
            s["invariant_violations"] += 1
        s["distinct_rows"] += d.get("distinct_rows", b.get("rows_read") or 0)
        for col, n in d.get("non_null", {}).items():
            s["non_null"][col] = s["non_null"].get(col, 0) + n
        for col, n in d.get("unresolved", {}).items():
            s["unresolved"][col] = s["unresolved"].get(col, 0) + n
        s["warnings"].extend(w for w in d.get("warnings", []) if w not in s["warnings"])
        if "lag_hours" in d:
            s["lag_p50_hours"].append(d["lag_hours"]["p50"])
            s["lag_p90_hours"].append(d["lag_hours"]["p90"])
        s["last_ingest"] = max(filter(None, [s["last_ingest"], b.get("committed_at")]), default=None)
    return out


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _from_tables(warehouse: Warehouse) -> tuple[dict, dict, dict, int]:
    """Volume by day, coverage and linkage per source, from the canonical tables."""
    volume: dict[str, dict[str, int]] = {}
    persons: dict[str, tuple[int, int, int, int]] = {}
    reasons: dict[str, list[dict[str, Any]]] = {}
    with warehouse.open_engine("duckdb") as e:
        registered = e.query("SELECT count(*) AS n FROM person WHERE registered").column("n")[0].as_py()
        for table, pk in EVENT_TABLES.items():
            for row in e.query(f"SELECT source, day, count(*) AS n FROM {table} "
                               "GROUP BY ALL ORDER BY ALL").to_pylist():
                volume.setdefault(row["source"], {})[str(row["day"])] = row["n"]
            if pk is None:
                continue
            q = (f"SELECT source, count(*) AS n, count(*) FILTER (WHERE p.registered) AS linked, "
                 f"count(DISTINCT t.person_key) AS persons, count(DISTINCT t.person_key) "
                 f"FILTER (WHERE p.registered) AS seen FROM {table} t "
                 f"LEFT JOIN (SELECT DISTINCT person_key, registered FROM person WHERE registered) p "
                 f"USING (person_key) GROUP BY source")
            for row in e.query(q).to_pylist():
                persons[row["source"]] = (row["n"], row["linked"], row["persons"], row["seen"])
        q = ("SELECT source, disposition, regexp_replace(r, '''[^'']*''|[0-9]+', '#', 'g') AS reason, "
             "count(*) AS n FROM (SELECT source, disposition, unnest(reasons) AS r FROM quarantine) "
             "GROUP BY ALL ORDER BY source, n DESC")
        rows = e.query(q).to_pylist() if warehouse.files().get("quarantine") else []
        for row in rows:
            reasons.setdefault(row["source"], []).append(
                {"reason": row["reason"], "disposition": row["disposition"], "rows": row["n"]})
    return volume, persons, reasons, registered


def quality_report(warehouse: Warehouse) -> dict[str, Any]:
    """Everything the quality command shows, as plain data (JSON-ready)."""
    batches = warehouse.catalog.batches()
    acc = _accounting(batches)
    volume, persons, reasons, registered = _from_tables(warehouse)
    sources = []
    for kind in sorted(acc, key=lambda k: list(KINDS).index(k)):
        s = acc[kind]
        distinct = s["distinct_rows"]
        n, linked, seen_persons, seen_registered = persons.get(kind, (0, 0, 0, 0))
        sources.append({
            "source": kind,
            "reference": KINDS[kind].reference,
            "batches": s["batches"],
            "rows_read": s["rows_read"], "rows_loaded": s["rows_loaded"],
            "rows_quarantined": s["rows_quarantined"], "rows_duplicate": s["rows_duplicate"],
            "invariant_holds": s["invariant_violations"] == 0,
            "validity": _ratio(s["rows_loaded"], s["rows_read"] - s["rows_duplicate"]),
            "duplicate_rate": _ratio(s["rows_duplicate"], s["rows_read"]),
            "completeness": {c: _ratio(v, distinct) for c, v in s["non_null"].items()},
            "unresolved_references": s["unresolved"],
            "warnings": s["warnings"],
            "delivery_lag_hours": {
                "p50": round(sorted(s["lag_p50_hours"])[len(s["lag_p50_hours"]) // 2], 2),
                "p90": round(max(s["lag_p90_hours"]), 2)} if s["lag_p50_hours"] else None,
            "volume_by_day": volume.get(kind, {}),
            "persons_seen": seen_persons if n else None,
            "coverage": _ratio(seen_registered, registered) if n else None,
            "identity_linkage": _ratio(linked, n) if n else None,
            "quarantine_reasons": reasons.get(kind, [])[:10],
            "last_ingest": s["last_ingest"],
        })
    return {"registered_persons": registered, "batches": sum(s["batches"] for s in acc.values()),
            "sources": sources,
            "batch_accounting": [
                {k: b.get(k) for k in ("batch_id", "kind", "source_file", "rows_read", "rows_loaded",
                                       "rows_quarantined", "rows_duplicate")}
                for b in batches if b["kind"] in KINDS]}
