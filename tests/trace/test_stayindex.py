"""The memory-mapped stays index: every stay exactly once, lookups equal to brute force."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa

from epicenter.engine import Session
from epicenter.schema import TABLES
from epicenter.trace import index as trace_index
from epicenter.trace.stayindex import BLOCK, StayIndex

from .scenario import Scenario, ts
from .test_parity import _world

T0 = dt.datetime(2020, 1, 20)


def _random_world(seed: int = 3, n: int = 600) -> Scenario:
    """Random stays at a few places: long and short, open ends, equal starts, NULL ids."""
    rng = random.Random(seed)
    sc = Scenario()
    for i in range(n):
        kind = rng.choice(["venue", "cell", "hotel_room", "merchant"])
        place = {"venue": f"V{rng.randint(0, 5)}", "cell": f"C{rng.randint(0, 3)}",
                 "hotel_room": f"H1/{rng.randint(100, 103)}", "merchant": f"M{rng.randint(0, 2)}"}[kind]
        start = T0 + dt.timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        if kind == "merchant":
            end = start
        elif kind == "hotel_room" and rng.random() < 0.3:
            end = None
        else:
            end = start + dt.timedelta(minutes=rng.choice([1, 15, 60, 600, 3000]))
        sc.stay(f"P{rng.randint(0, 40)}", place, start.isoformat(),
                end.isoformat() if end else None, kind=kind)
        sc.rows["stays"][-1]["line_no"] = None if i % 97 == 0 else i + 2
    return sc


def _plain_rows(warehouse) -> list[tuple]:
    cols = ", ".join(TABLES["stays"].names)
    with Session() as s:
        files = warehouse.files()["stays"]
        return sorted(s.rows(f"SELECT {cols} FROM read_parquet({files!r}, hive_partitioning = true)"),
                      key=repr)


def _index(warehouse) -> StayIndex:
    trace_index.build_index(warehouse)
    return trace_index.open_index(warehouse)


def test_the_index_holds_every_stay_once_with_every_column(warehouse):
    _random_world().write(warehouse)
    idx = _index(warehouse)
    table = idx.table(np.arange(len(idx.place)))
    assert table.schema == TABLES["stays"]
    got = sorted((tuple(r.values()) for r in table.to_pylist()), key=repr)
    assert got == _plain_rows(warehouse)
    assert any(r[7] is None for r in got) and any(r[4] is None for r in got)


def test_rows_are_sorted_by_place_then_start_and_reach_is_the_running_max_end(warehouse):
    _random_world().write(warehouse)
    idx = _index(warehouse)
    place, start, end = np.asarray(idx.place), np.asarray(idx.start), np.asarray(idx.end)
    assert np.all(np.diff(place) >= 0)
    for p in np.unique(place):
        a, b = idx.place_start[p], idx.place_start[p + 1]
        assert np.all(place[a:b] == p) and np.all(np.diff(start[a:b]) >= 0)
        assert np.array_equal(idx.reach[a:b], np.maximum.accumulate(end[a:b]))
    keys = [bytes(k) for k in idx.place_keys]
    assert keys == sorted(keys)
    # block_end: the latest end of each BLOCK rows, the last block partial (600 rows)
    assert len(end) % BLOCK and np.array_equal(
        idx.block_end, [end[i:i + BLOCK].max() for i in range(0, len(end), BLOCK)])


def test_lookups_equal_brute_force(warehouse):
    _random_world().write(warehouse)
    idx = _index(warehouse)
    rows = idx.table(np.arange(len(idx.place))).to_pylist()
    rng = random.Random(9)
    big = dt.datetime(9999, 1, 1)
    for _ in range(200):
        r = rng.choice(rows)
        t0 = T0 + dt.timedelta(minutes=rng.randint(-600, 6 * 24 * 60))
        t1 = t0 + dt.timedelta(minutes=rng.choice([0, 5, 90, 2000]))
        us = [int((t - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000 for t in (t0, t1)]
        code = idx.place_codes([r["place_kind"]], [r["place_id"]])
        got = set(idx.probe(code, np.array(us[:1]), np.array(us[1:])).tolist())
        want = {i for i, o in enumerate(rows)
                if (o["place_kind"], o["place_id"]) == (r["place_kind"], r["place_id"])
                and o["start_time"] <= t1 and (o["end_time"] or big) >= t0}
        assert got == want
    person = rows[0]["person_key"]
    assert set(idx.person_rows([person, "nobody"]).tolist()) == {
        i for i, o in enumerate(rows) if o["person_key"] == person}
    assert idx.place_codes(["venue", "cell"], ["nowhere", "V1"]).tolist() == [-1, -1]
    assert len(idx.places_with_prefix("hotel_room", "H1/")) == 4


def test_probes_at_one_place_merge_without_losing_rows(warehouse):
    sc = Scenario()
    for i in range(30):  # one long stay and many short ones: the long one must stay found
        sc.stay(f"P{i}", "C1", f"01-20 {i % 24:02d}:00", f"01-20 {i % 24:02d}:10", kind="cell")
    sc.stay("LONG", "C1", "01-19 00:00", "01-25 00:00", kind="cell")
    sc.write(warehouse)
    idx = _index(warehouse)
    code = idx.place_codes(["cell"], ["C1"])[0]
    us = lambda t: int((ts(t) - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000  # noqa: E731
    got = idx.table(idx.probe(np.array([code, code, code]),
                              np.array([us("01-20 03:05"), us("01-20 03:09"), us("01-20 20:00")]),
                              np.array([us("01-20 03:06"), us("01-20 03:20"), us("01-20 20:00")])))
    assert sorted(got.column("person_key").to_pylist()) == sorted(["P3", "P20", "P27", "LONG"])


def test_an_empty_warehouse_gives_an_empty_index(warehouse):
    Scenario().person("A", "h1").write(warehouse)
    idx = _index(warehouse)
    assert len(idx.place) == 0
    assert idx.table(idx.person_rows(["A"])).num_rows == 0
    assert idx.probe(np.array([-1]), np.array([0]), np.array([1])).size == 0
    assert idx.table(np.empty(0, np.int64)).schema == pa.schema(TABLES["stays"])


def test_world_contacts_use_the_index_and_agree(warehouse):
    _world().write(warehouse)
    from epicenter.trace import find_contacts

    with warehouse.open_engine() as engine:
        plain = find_contacts(engine, ["X", "R", "Q"], as_of=ts("01-30 00:00"))
    with warehouse.open_engine() as engine:
        assert trace_index.register(engine, warehouse, build=True)
        assert trace_index.attached(engine) is not None
        indexed = find_contacts(engine, ["X", "R", "Q"], as_of=ts("01-30 00:00"))
    assert plain.num_rows > 3 and plain.equals(indexed)
