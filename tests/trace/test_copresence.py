"""The index's other paths: near, batched contacts and numpy co-location equal the plain SQL."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from epicenter.trace import index as trace_index
from epicenter.trace.copresence import COLOCATION_SQL, colocation
from epicenter.trace.near import near

from .scenario import Scenario, ts
from .test_stayindex import _random_world


def windows_of(keys, t0, t1) -> pa.Table:
    ts_ = pa.timestamp("us")
    return pa.table({"case_key": pa.array(keys, pa.string()),
                     "win_start": pa.array([t0] * len(keys), ts_),
                     "win_end": pa.array([t1] * len(keys), ts_)})


def colocation_both(warehouse, windows: pa.Table, d0: dt.date, d1: dt.date):
    with warehouse.open_engine() as engine:
        engine.register_arrow("colocation_windows", windows)
        want = engine.query(COLOCATION_SQL, {"d0": d0, "d1": d1})
    trace_index.build_index(warehouse)
    got = colocation(trace_index.open_index(warehouse), windows, d0, d1)
    norm = lambda t: sorted(tuple(r.values()) for r in t.to_pylist())  # noqa: E731
    return norm(want), norm(got)


def test_colocation_from_the_index_equals_the_sql_definition(warehouse):
    world = _random_world()
    # stays without a start have no interval: SQL's comparisons drop them on either side
    for person, place in (("P1", "V1"), ("P2", "C1"), ("P40", "V2")):
        world.stay(person, place, "2020-01-22T09:00", "2020-01-22T20:00")
        world.rows["stays"][-1]["start_time"] = None
    world.write(warehouse)
    windows = windows_of([f"P{i}" for i in range(41)] + ["nobody"],
                       dt.datetime(2020, 1, 21, 6), dt.datetime(2020, 1, 23, 18))
    want, got = colocation_both(warehouse, windows, dt.date(2020, 1, 20), dt.date(2020, 1, 23))
    assert len(want) > 50 and got == want


def test_colocation_split_over_threads_is_the_same_table(warehouse):
    _random_world().write(warehouse)
    windows = windows_of([f"P{i}" for i in range(41)] + ["nobody"] + [f"P{i}" for i in range(5)],
                         dt.datetime(2020, 1, 21, 6), dt.datetime(2020, 1, 23, 18))
    trace_index.build_index(warehouse)
    index = trace_index.open_index(warehouse)
    one = colocation(index, windows, dt.date(2020, 1, 20), dt.date(2020, 1, 23), threads=1)
    three = colocation(index, windows, dt.date(2020, 1, 20), dt.date(2020, 1, 23), threads=3,
                       min_cases_per_thread=1)
    assert one.num_rows > 50 and three.to_pylist() == one.to_pylist()
    # window order is kept: a case repeated at the end comes last
    assert one.column("case_key").to_pylist()[-1] == "P4"
    # the per-person counters the compiled loop reuses are zero again after every query,
    # so a repeated query (on counters another query used) is the same table
    pool = index._tallies
    assert pool._free and all(not a.any() and not b.any() for a, b in pool._free)
    again = colocation(index, windows, dt.date(2020, 1, 20), dt.date(2020, 1, 23), threads=1)
    assert again.to_pylist() == one.to_pylist()


def _near_world() -> Scenario:
    s = Scenario().venue("V1", "Noodle shop").venue("V2", "Far away")
    s.rows["merchant"] = [{"merchant_id": "M1", "name": "Noodle till", "venue_code": "V1",
                           "lon": 120.0, "lat": 30.0}]
    s.rows["cell_tower"] = [{"cell_id": "c1", "lon": 120.001, "lat": 30.0, "radius_m": 300.0}]
    s.stay("A", "V1", "01-20 11:30", "01-20 12:30").stay("A", "V1", "01-21 18:00", "01-21 19:00")
    s.stay("B", "V1", "01-19 10:00", "01-19 11:00").stay("C", "V2", "01-20 12:00", "01-20 13:00")
    s.stay("D", "V1", "01-19 23:00", "01-20 12:00")  # ends exactly at the window start: out
    s.stay("H", "V1/201", "01-10 20:00", None, kind="hotel_room")
    s.stay("G", "V10/201", "01-20 20:00", None, kind="hotel_room")  # another venue's room
    s.stay("E", "c1", "01-20 12:00", "01-20 13:00", kind="cell").pay("F", "M1", "01-20 13:00")
    return s


@pytest.mark.parametrize("where", [dict(venue="V1"), dict(lon=120.0, lat=30.0, radius_m=500)])
def test_near_through_the_index_equals_the_plain_tables(warehouse, where):
    _near_world().write(warehouse)
    window = (ts("01-20 12:00"), ts("01-22 00:00"))
    with warehouse.open_engine() as engine:
        plain = near(engine, *window, **where)
    with warehouse.open_engine() as engine:
        assert trace_index.register(engine, warehouse, build=True)
        indexed = near(engine, *window, **where)
    assert plain.num_rows >= 3 and plain.equals(indexed)
    if "venue" in where:
        assert set(plain.column("person_key").to_pylist()) == {"A", "H", "F"}


def test_the_compiled_loop_loads_where_no_cache_folder_is_writable(monkeypatch):
    """numba refuses cache=True when it finds no writable cache folder (a read-only
    install); the module then compiles per process instead of failing to import."""
    import importlib.util

    import numpy as np
    from numba.core import caching

    import epicenter.trace.colocate_kernel as kernel

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    spec = importlib.util.spec_from_file_location("kernel_without_cache", kernel.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert type(module.case_colocation._cache).__name__ == "NullCache"
    # and it computes: two persons at place 0, overlapping 10 s
    us = 1_000_000
    start, end = np.array([0, 5 * us]), np.array([20 * us, 15 * us])
    counters = np.zeros(2, np.int64), np.zeros(2, np.int64)
    who, pairs, seconds = module.case_colocation(
        np.array([0, 2]), np.maximum.accumulate(end), np.array([end.max()]), 32, start, end,
        np.zeros(2, np.int32), np.array([0, 1], np.int32), np.array([0]), np.array([0]),
        np.array([20 * us]), 0, 0, 0, *counters)
    assert who.tolist() == [1] and pairs.tolist() == [1] and seconds.tolist() == [10]
    assert not counters[0].any() and not counters[1].any()
