"""Duplicates, reference-key uniqueness and the quarantine of one batch.

Every row read ends in exactly one of three places: loaded, quarantined (failed a
rule) or duplicate (an exact copy of an earlier row of this batch or of any earlier
batch of the same kind). Duplicates are written to the quarantine table too, with
disposition ``duplicate`` and the line they repeat, so every row not loaded can be
found by file and line. Row hashes of earlier batches are kept per kind in the
``row_hashes`` table (vault zone: hashes of rows with identifiers are not analytic).
"""

from __future__ import annotations

from epicenter.engine import Session
from epicenter.ingest.identity import parquet_list
from epicenter.ingest.kinds import CLEAR_COLUMNS, Kind
from epicenter.ingest.validate import LINE_SQL, delivered_sql, lit

HASHES = "row_hashes"


def _hash_files(files: dict[str, list[str]], kind: str) -> list[str]:
    return [f for f in files.get(HASHES, []) if f"/kind={kind}/" in f]


def mark_duplicates(session: Session, files: dict[str, list[str]], kind: str) -> None:
    """Flag exact copies: later lines of the same content, and rows seen in earlier batches."""
    session.execute(
        "CREATE OR REPLACE TEMP TABLE dups AS "
        "SELECT t.line_no, concat('exact duplicate of line ', f.first_line) AS why FROM t "
        "JOIN (SELECT h1, h2, min(line_no) AS first_line FROM t GROUP BY h1, h2 HAVING count(*) > 1) f "
        "ON f.h1 = t.h1 AND f.h2 = t.h2 WHERE t.line_no <> f.first_line")
    hashes = _hash_files(files, kind)
    if hashes:
        session.execute(
            "INSERT INTO dups SELECT t.line_no, concat('exact duplicate of a row of batch ', "
            f"min(p.batch_id)) FROM t JOIN read_parquet({parquet_list(hashes)}) p "
            "ON p.h1 = t.h1 AND p.h2 = t.h2 "
            "WHERE t.line_no NOT IN (SELECT line_no FROM dups) GROUP BY t.line_no")
    if session.scalar("SELECT count(*) FROM dups"):
        session.execute("UPDATE t0 SET dup = true, extra_reason = dups.why FROM dups "
                        f"WHERE {LINE_SQL} = dups.line_no")


def check_reference_keys(session: Session, kind: Kind,
                         key_sql: str | None = None, loaded_keys: str | None = None) -> None:
    """A reference code appears once: later lines repeating a code (with other content)
    and codes already loaded by an earlier batch are rejected."""
    key = key_sql or f"r_{kind.key}"
    session.execute(
        "CREATE OR REPLACE TEMP TABLE keydups AS SELECT line_no, "
        f"concat('{kind.key} ', {key}, ' repeated (first at line ', first_line, ')') AS why FROM ("
        f"SELECT line_no, {key}, min(line_no) OVER (PARTITION BY {key}) AS first_line FROM t "
        f"WHERE NOT dup AND {key} IS NOT NULL) WHERE line_no <> first_line")
    if loaded_keys:
        session.execute(
            f"INSERT INTO keydups SELECT line_no, concat('{kind.key} ', {key}, ' already loaded') "
            f"FROM t WHERE NOT dup AND {key} IN (SELECT k FROM ({loaded_keys})) "
            "AND line_no NOT IN (SELECT line_no FROM keydups)")
    if session.scalar("SELECT count(*) FROM keydups"):
        session.execute("UPDATE t0 SET ok = false, extra_reason = keydups.why FROM keydups "
                        f"WHERE {LINE_SQL} = keydups.line_no")


def quarantine_sql(kind: Kind, reasons: str, batch_id: str, source_file: str) -> str:
    """Rejected and duplicate rows, with reasons and the delivered values (identifiers
    redacted: the raw zone keeps the file as received for whoever may see it). A copy
    of an invalid row is a duplicate; its reasons list the failed rules too."""
    fields = []
    for name in kind.names:
        value = delivered_sql(kind, name)
        if name in CLEAR_COLUMNS:
            value = f"CASE WHEN {value} IS NOT NULL THEN concat('<redacted ', length({value}), ' chars>') END"
        fields.append(f"{lit(name)}: {value}")
    record = "to_json({" + ", ".join(fields) + "})"
    return (
        f"SELECT {lit(kind.name)} AS source, {lit(batch_id)} AS batch_id, "
        f"{lit(source_file)} AS source_file, line_no, "
        "CASE WHEN dup THEN 'duplicate' ELSE 'rejected' END AS disposition, "
        f"{reasons} AS reasons, "
        f"CAST({record} AS VARCHAR) AS record FROM t WHERE dup OR NOT ok ORDER BY line_no")


def new_hashes_sql(batch_id: str) -> str:
    """Hashes of this batch's first occurrences (distinct already: copies are ``dup``)."""
    return f"SELECT h1, h2, {lit(batch_id)} AS batch_id FROM t WHERE NOT dup"
