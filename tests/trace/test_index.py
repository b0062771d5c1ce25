"""The trace index changes speed, never answers: identical results with and without it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.engine import Session
from epicenter.ingest.delivery import ingest_items, plan_delivery
from epicenter.synth import generate
from epicenter.trace import find_contacts
from epicenter.trace import index as trace_index

from .scenario import Scenario, ts
from .test_parity import _rows, _world
from .test_queries import _outbreak


def _both(warehouse, run) -> tuple[pa.Table, pa.Table]:
    """``run(engine)`` on the plain tables, then on a freshly built index."""
    with warehouse.open_engine() as engine:
        plain = run(engine)  # nobody registered an index: the trace views alias ``stays``
    with warehouse.open_engine() as engine:
        assert trace_index.register(engine, warehouse, build=True) is True
        indexed = run(engine)
    return plain, indexed


@pytest.mark.parametrize("build", [_world, _outbreak])
def test_contacts_and_sources_are_identical_with_the_index(warehouse, build):
    build().write(warehouse)
    as_of = ts("01-30 00:00")
    plain, indexed = _both(warehouse, lambda e: find_contacts(
        e, ["X", "R", "Q"] if build is _world else ["Q", "R", "S"], as_of=as_of, secondary=True))
    assert plain.num_rows >= 3
    assert _rows(plain) == _rows(indexed)
    # the all-pairs form (targets + time buckets) that source tracing and chains run
    plain, indexed = _both(warehouse, lambda e: find_contacts(
        e, ["Q", "R", "S"], as_of=as_of, targets=["P", "Q", "R", "S", "U"], bucket_minutes=60))
    assert plain.num_rows >= 2
    assert _rows(plain) == _rows(indexed)


def test_index_holds_every_stay_sorted_by_place_and_by_person(warehouse):
    _world().write(warehouse)
    manifest = trace_index.build_index(warehouse)
    base = trace_index.index_dir(warehouse.home)
    with Session() as s:
        plain = s.scalar(f"SELECT count(*) FROM read_parquet({warehouse.files()['stays']!r})")
        assert manifest["rows"] == plain > 10
        for name, keys in ((trace_index.BY_PLACE, "place_kind, place_id, start_time"),
                           (trace_index.BY_PERSON, "person_key, start_time")):
            rows = s.rows(f"SELECT {keys} FROM read_parquet('{base / name}')")
            assert rows == sorted(rows, key=lambda r: tuple((v is None, v) for v in r))
            assert len(rows) == plain


def test_a_later_ingest_makes_the_index_stale_until_rebuilt(warehouse):
    _outbreak().write(warehouse)
    trace_index.build_index(warehouse)
    assert trace_index.is_fresh(warehouse)
    late = Scenario()
    late.rows["stays"].append(dict(person_key="Z", place_kind="venue", place_id="V1",
                                   start_time=ts("01-15 19:30"), end_time=ts("01-15 20:30"),
                                   day=dt.date(2020, 1, 15), source="venue_scan",
                                   batch_id="b-late", line_no=2))
    late.write(warehouse)
    assert not trace_index.is_fresh(warehouse)
    for build in (False, True):
        with warehouse.open_engine() as engine:
            # stale: the plain tables answer (Z is seen); rebuilt: the index answers the same
            assert trace_index.register(engine, warehouse, build=build) is build
            rows = find_contacts(engine, ["Q"], as_of=ts("01-30 00:00")).to_pylist()
        assert ("Z", "venue", "close") in {(r["contact_key"], r["setting"], r["tier"]) for r in rows}
    assert trace_index.is_fresh(warehouse)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    generate(out, persons=1500, days=7, seed=4)
    return out


def test_synthetic_city_contacts_are_identical_with_the_index(city, settings):
    items, _ = plan_delivery(city)
    assert not [r for r in ingest_items(settings, items) if "error" in r]
    warehouse = settings.warehouse
    with warehouse.open_engine() as engine:
        people = engine.query("SELECT person_key, count(*) AS n FROM stays GROUP BY person_key "
                              "ORDER BY n DESC, person_key LIMIT 40").column("person_key")
        span = engine.query("SELECT min(start_time) AS t0, max(start_time) AS t1 FROM stays")
    t0, t1 = span.column("t0")[0].as_py(), span.column("t1")[0].as_py()
    # the busiest persons as cases, traced over the whole city's time range
    windows = pa.table({"case_key": people,
                        "win_start": pa.array([t0] * len(people), pa.timestamp("us")),
                        "win_end": pa.array([t1] * len(people), pa.timestamp("us"))})
    plain, indexed = _both(warehouse, lambda e: find_contacts(e, windows, as_of=t1))
    assert plain.num_rows > 1000
    assert {r["setting"] for r in plain.select(["setting"]).to_pylist()} >= {"venue", "cell"}
    assert _rows(plain) == _rows(indexed)


def test_trace_index_command_builds_a_fresh_index(settings, warehouse):
    _outbreak().write(warehouse)
    assert not trace_index.is_fresh(warehouse)
    result = CliRunner().invoke(cli, ["--home", str(settings.home), "trace-index"])
    assert result.exit_code == 0, result.output
    assert trace_index.is_fresh(warehouse) and "stays indexed" in result.output
