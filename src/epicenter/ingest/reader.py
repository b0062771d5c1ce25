"""Reading a delivered file into DuckDB with the physical line number of every row.

Fast path: a UTF-8 CSV with no quote characters is read by DuckDB directly; when it
yields one row per line (no blank lines, no malformed rows), ``line_no = row index + 2``.
Everything else (other encodings such as GBK/GB18030, quoted fields that may span
lines, blank lines, rows with the wrong number of fields) is first streamed through
Python's csv module into a normalised UTF-8 file that carries each record's starting
line and field count, so line numbers stay physical and malformed rows reach the
quarantine instead of failing the file.
"""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from epicenter.engine import Session
from epicenter.ingest.errors import IngestError
from epicenter.ingest.mapping import Mapping

CHUNK = 1 << 22


@dataclass(frozen=True)
class FileScan:
    sha256: str
    quoted: bool  # has a quote character: fields may span lines
    lines: int  # physical lines (a last line without newline counts)


def scan_file(path: Path) -> FileScan:
    """Content hash plus what chooses the read path: a quote character anywhere, and the
    number of lines (if DuckDB reads fewer rows than lines, there were blank lines).
    Both are single-byte searches, which run at memory speed."""
    h = hashlib.sha256()
    quoted, lines, last = False, 0, b"\n"
    # the hash runs in a worker thread (hashlib releases the GIL on large blocks) while
    # this thread searches the same block: about a third less time than one after the other
    with open(path, "rb") as f, ThreadPoolExecutor(1) as hasher:
        while block := f.read(CHUNK):
            hashed = hasher.submit(h.update, block)
            quoted = quoted or b'"' in block
            lines += block.count(b"\n")
            last = block[-1:]
            hashed.result()  # blocks are hashed in order, one at a time
    return FileScan(h.hexdigest(), quoted, lines + (last != b"\n"))


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Source:
    """A delivered file as SQL view: ``line_no``, ``nf`` (field count or NULL), c0..cN."""

    relation: str
    header: tuple[str, ...]
    fast: bool = False  # read by DuckDB directly (see fast_read_failed)

    def column(self, delivered: str) -> str | None:
        try:
            return f"c{self.header.index(delivered)}"
        except ValueError:
            return None


def _csv_columns(n: int) -> str:
    return "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"


def _read_header(path: Path, mapping: Mapping) -> list[str]:
    try:
        with open(path, encoding=mapping.encoding, newline="") as f:
            first = next(csv.reader(f, delimiter=mapping.delimiter), None)
    except UnicodeDecodeError as err:
        raise IngestError(f"{path}: line 1: not valid {mapping.encoding} text ({err.reason}); "
                          "set 'encoding' in a mapping file") from err
    if not first:
        raise IngestError(f"{path}: empty file (no header row)")
    return [name.lstrip("\ufeff").strip() for name in first]


def _normalise(path: Path, mapping: Mapping, width: int, out: Path) -> None:
    """Stream the file into UTF-8 with columns line, nf, c0..cN (padded/truncated)."""
    last = 1
    try:
        with open(path, encoding=mapping.encoding, newline="") as src, \
                open(out, "w", encoding="utf-8", newline="") as dst:
            reader = csv.reader(src, delimiter=mapping.delimiter)
            writer = csv.writer(dst, lineterminator="\n")
            writer.writerow(["line", "nf", *(f"c{i}" for i in range(width))])
            next(reader, None)
            last = reader.line_num
            for record in reader:
                start, last = last + 1, reader.line_num
                if not record:  # a blank line is not a record
                    continue
                fields = [v.strip() for v in (record + [""] * width)[:width]]
                writer.writerow([start, len(record), *fields])
    except UnicodeDecodeError as err:
        raise IngestError(f"{path}: line {last + 1}: not valid {mapping.encoding} text "
                          f"({err.reason}); set 'encoding' in a mapping file") from err
    except csv.Error as err:
        raise IngestError(f"{path}: line {last + 1}: malformed CSV: {err}") from err


def open_source(session: Session, path: Path, mapping: Mapping, scan: FileScan,
                workdir: Path, fast: bool = True) -> Source:
    """Define view ``src`` over the file (read when the validation query runs).

    On the fast path DuckDB records malformed rows instead of failing; call
    :func:`fast_read_failed` after the first full read and, if it says so, reopen with
    ``fast=False`` (the normalising path that keeps such rows for the quarantine).
    """
    if path.suffix.lower() == ".parquet":
        cols = [r[0] for r in session.rows(f"DESCRIBE SELECT * FROM read_parquet({_sql_str(str(path))})")]
        select = ", ".join(f'CAST("{c}" AS VARCHAR) AS c{i}' for i, c in enumerate(cols))
        session.execute(
            f"CREATE OR REPLACE TEMP VIEW src AS SELECT file_row_number + 1 AS line_no, "
            f"CAST(NULL AS BIGINT) AS nf, {select} "
            f"FROM read_parquet({_sql_str(str(path))}, file_row_number = true)")
        return Source("src", tuple(cols))
    header = _read_header(path, mapping)
    width = len(header)
    if fast and not scan.quoted and mapping.is_utf8:
        # line_no is left NULL here: the validation table ``t0`` is built from this view in
        # file order (the session preserves insertion order until line numbers are fixed),
        # so a row's position in t0 gives its line (see validate.LINE_SQL). Numbering rows
        # here with row_number() OVER () would run the whole read and validation on one
        # thread: a streaming window keeps rows in order.
        session.execute("SET preserve_insertion_order = true")
        session.execute(
            f"CREATE OR REPLACE TEMP VIEW src AS SELECT CAST(NULL AS BIGINT) AS line_no, "
            f"CAST(NULL AS BIGINT) AS nf, * FROM read_csv({_sql_str(str(path))}, "
            f"columns = {_csv_columns(width)}, header = true, auto_detect = false, "
            f"delim = {_sql_str(mapping.delimiter)}, quote = '\"', escape = '\"', "
            f"store_rejects = true, rejects_table = 'rej_rows', rejects_scan = 'rej_scans')")
        return Source("src", tuple(header), fast=True)
    normalised = workdir / "normalised.csv"
    _normalise(path, mapping, width, normalised)
    columns = "{'line': 'BIGINT', 'nf': 'BIGINT', " + _csv_columns(width)[1:]
    session.execute(
        f"CREATE OR REPLACE TEMP VIEW src AS SELECT line AS line_no, nf, "
        f"{', '.join(f'c{i}' for i in range(width))} FROM read_csv("
        f"{_sql_str(str(normalised))}, columns = {columns}, header = true, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"')")
    return Source("src", tuple(header))


def fast_read_failed(session: Session, source: Source, scan: FileScan, rows: int) -> bool:
    """After reading ``src`` once: did DuckDB set a malformed row aside, or skip blank
    lines (fewer rows than data lines)? Then line numbers need the normalising path."""
    if not source.fast:
        return False
    if rows != scan.lines - 1:
        return True
    exists = session.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rej_rows'")
    return bool(exists and session.scalar("SELECT count(*) FROM rej_rows"))
