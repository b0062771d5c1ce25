"""Warehouse: batches become visible atomically, and a killed write leaves nothing visible."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from epicenter.schema import TABLES, VAULT_ZONE_TABLES
from epicenter.warehouse import Warehouse


def _stays(n: int, day: dt.date = dt.date(2020, 1, 20)) -> pa.Table:
    start = dt.datetime.combine(day, dt.time(9))
    return pa.table({
        "person_key": [f"p{i}" for i in range(n)],
        "place_kind": ["venue"] * n,
        "place_id": ["V1"] * n,
        "start_time": [start + dt.timedelta(days=i % 3) for i in range(n)],
        "end_time": [start + dt.timedelta(days=i % 3, hours=1) for i in range(n)],
        "source": ["venue_scan"] * n,
        "batch_id": ["test"] * n,
        "line_no": list(range(2, n + 2)),
        "day": [day + dt.timedelta(days=i % 3) for i in range(n)],
    }, schema=TABLES["stays"])


def _count(wh: Warehouse, table: str = "stays") -> int:
    with wh.open_engine() as e:
        return e.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py()


def test_committed_batch_is_visible_and_partitioned_by_day(warehouse):
    with warehouse.batch("venue_scan", "a.csv", "h1") as b:
        b.write("stays", _stays(10))
        rec = b.commit(rows_read=10, rows_loaded=10, rows_quarantined=0, rows_duplicate=0)
    assert _count(warehouse) == 10
    days = sorted(p.name for p in (warehouse.home / "curated" / "stays").iterdir())
    assert days == ["day=2020-01-20", "day=2020-01-21", "day=2020-01-22"]
    assert warehouse.catalog.find_batch("venue_scan", "h1")["batch_id"] == rec["batch_id"]
    assert not (warehouse.home / "_staging" / rec["batch_id"]).exists()


def test_failed_batch_leaves_nothing(warehouse):
    with pytest.raises(RuntimeError), warehouse.batch("venue_scan", "a.csv", "h1") as b:
        b.write("stays", _stays(5))
        raise RuntimeError("validation blew up")
    assert _count(warehouse) == 0
    assert warehouse.catalog.batches() == []


def test_empty_warehouse_has_every_table(warehouse):
    with warehouse.open_engine() as e:
        for table in set(TABLES) - set(VAULT_ZONE_TABLES):
            assert e.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py() == 0
        assert e.query("SELECT * FROM cases").num_rows == 0


KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_warehouse import _stays
    from epicenter.warehouse import Warehouse
    from epicenter.warehouse import catalog

    def die(*a, **k):
        os.kill(os.getpid(), signal.SIGKILL)   # a real crash, right before the visibility point

    catalog.Catalog.commit_batch = die
    wh = Warehouse({home!r})
    with wh.batch("venue_scan", "b.csv", "h2") as b:
        b.write("stays", _stays(50))
        b.commit(rows_read=50, rows_loaded=50, rows_quarantined=0, rows_duplicate=0)
""")


def test_killed_write_leaves_no_visible_partial_batch(warehouse):
    with warehouse.batch("venue_scan", "a.csv", "h1") as b:
        b.write("stays", _stays(7))
        b.commit(rows_read=7, rows_loaded=7, rows_quarantined=0, rows_duplicate=0)
    script = KILLER.format(tests=os.path.dirname(__file__), home=str(warehouse.home))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    # files of the killed batch were already moved into curated/, yet none is visible
    committed = set(warehouse.files()["stays"])
    on_disk = {str(p) for p in (warehouse.home / "curated" / "stays").rglob("*.parquet")}
    assert len(on_disk) > len(committed)
    assert _count(warehouse) == 7
    removed = warehouse.recover()
    assert removed["orphans"] == len(on_disk) - len(committed)
    assert _count(warehouse) == 7
    assert {str(p) for p in (warehouse.home / "curated" / "stays").rglob("*.parquet")} == committed


def test_keep_raw_copies_once(warehouse, tmp_path):
    src = tmp_path / "venue_scan.csv"
    src.write_text("phone,venue_code,scan_time\n")
    from epicenter.warehouse import file_sha256

    h = file_sha256(src)
    a = warehouse.keep_raw(src, "venue_scan", h)
    b = warehouse.keep_raw(src, "venue_scan", h)
    assert a == b and a.read_text() == src.read_text()


def test_analytic_engines_cannot_see_the_vault(warehouse):
    with warehouse.open_engine() as e, pytest.raises(Exception, match="identity_vault"):
        e.query("SELECT * FROM identity_vault")
