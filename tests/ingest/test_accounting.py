"""Accounting: read = loaded + quarantined + duplicate, idempotence, crash recovery."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from epicenter.ingest.pipeline import ingest_file
from tests.ingest.builders import phone, write_csv
from tests.ingest.conftest import query

HEADER = ["phone", "cell_id", "start_time", "end_time"]


def _rows(day: int, n: int = 4) -> list[list[str]]:
    return [[phone(i), "T1", f"2024-01-{day:02d} {8 + i:02d}:00", f"2024-01-{day:02d} {9 + i:02d}:00"]
            for i in range(n)]


def _invariant(settings) -> None:
    for b in settings.warehouse.catalog.batches():
        if b["kind"] == "cell_signaling":
            assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"] + b["rows_duplicate"]


def test_duplicates_within_and_across_batches_are_counted_not_loaded(loaded, tmp_path):
    first = _rows(1)
    a = ingest_file(loaded, "cell_signaling", write_csv(tmp_path / "a.csv", HEADER,
                                                        first + [first[0], first[0]]))
    assert (a["rows_read"], a["rows_loaded"], a["rows_duplicate"]) == (6, 4, 2)
    # a second delivery repeating two rows of the first, one of them twice, plus a new row
    b = ingest_file(loaded, "cell_signaling", write_csv(
        tmp_path / "b.csv", HEADER, [first[1], first[2], first[1], *_rows(2, 1)]))
    assert (b["rows_read"], b["rows_loaded"], b["rows_quarantined"], b["rows_duplicate"]) == (4, 1, 0, 3)
    assert query(loaded, "SELECT count(*) AS n FROM stays")[0]["n"] == 5
    dups = query(loaded, "SELECT batch_id, line_no, reasons FROM quarantine "
                         "WHERE disposition = 'duplicate'")
    dups.sort(key=lambda d: (d["batch_id"] == b["batch_id"], d["line_no"]))  # ingest order
    assert [(d["batch_id"], d["line_no"]) for d in dups] == [
        (a["batch_id"], 6), (a["batch_id"], 7), (b["batch_id"], 2), (b["batch_id"], 3),
        (b["batch_id"], 4)]
    assert dups[0]["reasons"] == ["exact duplicate of line 2"]
    assert dups[2]["reasons"] == [f"exact duplicate of a row of batch {a['batch_id']}"]
    assert dups[4]["reasons"] == ["exact duplicate of line 2"]
    _invariant(loaded)


def test_reingesting_the_same_file_is_a_no_op(loaded, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, _rows(1))
    first = ingest_file(loaded, "cell_signaling", path)
    again = ingest_file(loaded, "cell_signaling", path)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    renamed = ingest_file(loaded, "cell_signaling", copy)
    assert again["skipped"] and again["batch_id"] == first["batch_id"]
    assert renamed["skipped"] and renamed["batch_id"] == first["batch_id"]
    assert query(loaded, "SELECT count(*) AS n FROM stays")[0]["n"] == 4
    raw = list((loaded.home / "raw" / "cell_signaling").iterdir())
    assert len(raw) == 1 and raw[0].read_bytes() == path.read_bytes()


KILL_BEFORE_COMMIT = """
import os, sys
from epicenter.settings import load_settings
from epicenter.ingest.pipeline import ingest_file
from epicenter.warehouse.batch import Batch

def die(self, **counts):
    # everything is staged (and published files may even be half moved): die here
    self._publish_files()
    os._exit(9)

Batch.commit = die
ingest_file(load_settings(home=sys.argv[1]), "cell_signaling", sys.argv[2])
"""


def test_a_killed_ingest_leaves_nothing_visible_and_a_rerun_completes_it(loaded, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, _rows(1) + [_rows(1)[0]])
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL_BEFORE_COMMIT),
                           str(loaded.home), str(path)], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    # files were moved into curated/ and the vault but never catalogued: invisible
    assert list((loaded.home / "curated" / "stays").rglob("*.parquet"))
    assert query(loaded, "SELECT count(*) AS n FROM stays")[0]["n"] == 0
    assert loaded.warehouse.catalog.find_batch("cell_signaling", "") is None
    rec = ingest_file(loaded, "cell_signaling", path)  # recovers, then ingests
    assert not rec.get("skipped")
    assert (rec["rows_loaded"], rec["rows_duplicate"]) == (4, 1)
    assert query(loaded, "SELECT count(*) AS n FROM stays")[0]["n"] == 4
    orphans = [p for p in loaded.home.rglob("*.parquet")
               if str(p.relative_to(loaded.home)) not in
               {f for fs in loaded.warehouse.catalog.table_files().values() for f in fs}]
    assert orphans == []
    assert not any((loaded.home / "_staging").iterdir())


def test_every_batch_is_catalogued_with_its_accounting(loaded, tmp_path):
    rows = _rows(1) + [["bad", "T1", "x", "y"], _rows(1)[0]]
    rec = ingest_file(loaded, "cell_signaling", write_csv(tmp_path / "a.csv", HEADER, rows))
    stored = next(b for b in loaded.warehouse.catalog.batches() if b["batch_id"] == rec["batch_id"])
    assert (stored["rows_read"], stored["rows_loaded"], stored["rows_quarantined"],
            stored["rows_duplicate"]) == (6, 4, 1, 1)
    assert query(loaded, "SELECT count(*) AS n FROM quarantine")[0]["n"] == 2
    _invariant(loaded)
