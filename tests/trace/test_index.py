"""The trace index changes speed, never answers: identical results with and without it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.ingest.delivery import ingest_items, plan_delivery
from epicenter.synth import generate
from epicenter.trace import candidates, find_contacts, source
from epicenter.trace import index as trace_index
from epicenter.trace.near import near

from .scenario import Scenario, ts
from .test_copresence import colocation_both, windows_of
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


def test_source_ranking_is_identical_with_the_index_however_seeds_are_batched(warehouse,
                                                                             monkeypatch):
    _outbreak().write(warehouse)

    def ranked(engine):
        return source.candidate_links(engine, None, as_of=ts("01-30 00:00"))

    plain, indexed = _both(warehouse, ranked)
    monkeypatch.setattr(source, "SEEDS_PER_QUERY", 3)  # one-day seeds, 3 to a query
    _, split = _both(warehouse, ranked)
    assert plain.num_rows >= 3
    assert _rows(plain) == _rows(indexed) == _rows(split)


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


def test_synthetic_city_contacts_are_identical_with_the_index(city, settings, monkeypatch):
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
    # the cases split into many batches: one answer
    monkeypatch.setattr(candidates, "CASES_PER_QUERY", 7)
    plain, indexed = _both(warehouse, lambda e: find_contacts(e, windows, as_of=t1))
    assert plain.num_rows > 1000
    assert {r["setting"] for r in plain.select(["setting"]).to_pylist()} >= {"venue", "cell"}
    assert plain.equals(indexed)
    # secondary tracing of a few cases over the last two days (their close contacts' stays)
    few = windows.slice(0, 3).set_column(1, "win_start", pa.array([t1 - dt.timedelta(days=2)] * 3,
                                                                  pa.timestamp("us")))
    plain, indexed = _both(warehouse, lambda e: find_contacts(e, few, as_of=t1, secondary=True))
    assert "secondary" in set(plain.column("tier").to_pylist())
    assert plain.equals(indexed)
    # a case's seeds (its close contacts) split over several queries: the same answer
    assert plain.filter(pc.equal(plain.column("tier"), "close")).num_rows > 3 * 4
    monkeypatch.setattr(candidates, "SEEDS_PER_QUERY", 4)
    split_plain, split_indexed = _both(
        warehouse, lambda e: find_contacts(e, few, as_of=t1, secondary=True))
    assert split_plain.equals(plain) and split_indexed.equals(plain)
    # near the busiest venue, and the index's numpy co-location against its SQL definition
    venue = engine_rows(warehouse, "SELECT place_id FROM stays WHERE place_kind = 'venue' "
                        "GROUP BY 1 ORDER BY count(*) DESC, place_id LIMIT 1")[0]["place_id"]
    plain, indexed = _both(warehouse, lambda e: near(e, t0, t1, venue=venue))
    assert plain.num_rows > 20 and plain.equals(indexed)
    days = engine_rows(warehouse, "SELECT min(day) AS d0, max(day) AS d1 FROM stays")[0]
    want, got = colocation_both(warehouse, windows_of(people.to_pylist()[:20], t0, t1),
                                days["d0"], days["d1"])
    assert len(want) > 100 and got == want


def engine_rows(warehouse, sql: str) -> list[dict]:
    with warehouse.open_engine() as engine:
        return engine.query(sql).to_pylist()


def test_trace_index_command_builds_a_fresh_index(settings, warehouse):
    _outbreak().write(warehouse)
    assert not trace_index.is_fresh(warehouse)
    result = CliRunner().invoke(cli, ["--home", str(settings.home), "trace-index"])
    assert result.exit_code == 0, result.output
    assert trace_index.is_fresh(warehouse) and "stays indexed" in result.output
