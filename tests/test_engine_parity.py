"""The same DuckDB-dialect queries give the same rows on DuckDB and Spark."""

import datetime as dt

import pyarrow as pa
import pytest

from epicenter.engine import EngineUnavailable, get_engine
from epicenter.engine.dialect import to_spark
from epicenter.schema import TABLES
from tests.engines import ENGINE_PARAMS, normalise

T0 = dt.datetime(2020, 1, 20, 8, 0)


def _stays() -> pa.Table:
    rows = [
        ("a", "venue", "V1", T0, T0 + dt.timedelta(minutes=40)),
        ("b", "venue", "V1", T0 + dt.timedelta(minutes=25), T0 + dt.timedelta(minutes=90)),
        ("c", "venue", "V1", T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=4)),
        ("a", "cell", "C9", T0, T0 + dt.timedelta(hours=2)),
        ("c", "cell", "C9", T0 + dt.timedelta(minutes=90), T0 + dt.timedelta(hours=5)),
        ("d", "hotel_room", "H1/101", T0 - dt.timedelta(days=1), None),
    ]
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    return pa.table({
        "person_key": cols[0], "place_kind": cols[1], "place_id": cols[2],
        "start_time": cols[3], "end_time": cols[4], "source": ["t"] * n,
        "batch_id": ["b"] * n, "line_no": list(range(2, n + 2)),
        "day": [r[3].date() for r in rows],
    }, schema=TABLES["stays"])


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from epicenter.warehouse import Warehouse

    wh = Warehouse(tmp_path_factory.mktemp("parity") / "home")
    with wh.batch("venue_scan", "s.csv", "h") as b:
        b.write("stays", _stays())
        b.commit(rows_read=6, rows_loaded=6, rows_quarantined=0, rows_duplicate=0)
    return wh


QUERIES = {
    "overlap_join": (
        """
        SELECT x.person_key AS case_key, y.person_key AS contact_key, x.place_id,
               epoch(least(x.end_time, y.end_time) - greatest(x.start_time, y.start_time)) / 60.0
                   AS overlap_minutes
        FROM stays x JOIN stays y
          ON x.place_id = y.place_id AND x.person_key <> y.person_key
         AND x.start_time < y.end_time AND y.start_time < x.end_time
        WHERE x.person_key = $case
        """,
        {"case": "a"},
    ),
    "window_by_day": (
        """
        SELECT place_kind, CAST(date_trunc('day', start_time) AS DATE) AS d, count(*) AS n,
               min(start_time) AS first_seen
        FROM stays WHERE start_time >= $since GROUP BY ALL
        """,
        {"since": dt.datetime(2020, 1, 20)},
    ),
    "open_interval_as_of": (
        """
        SELECT person_key, coalesce(end_time, $as_of) AS end_at,
               row_number() OVER (PARTITION BY place_kind ORDER BY start_time) AS rn
        FROM stays
        """,
        {"as_of": dt.datetime(2020, 1, 21, 12)},
    ),
    "cases_view_empty": ("SELECT count(*) AS n FROM cases", None),
}


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
@pytest.mark.parametrize("query", sorted(QUERIES))
def test_engines_agree_row_for_row(home, engine_name, query):
    sql, params = QUERIES[query]
    with home.open_engine("duckdb") as duck:
        expected = normalise(duck.query(sql, params))
    with home.open_engine(engine_name) as engine:
        got = normalise(engine.query(sql, params))
    assert got == expected
    assert expected, "a parity query that returns nothing proves nothing"


def test_overlap_query_answer(home):
    """The parity queries are checked against a hand-computed answer, not only each other."""
    sql, params = QUERIES["overlap_join"]
    with home.open_engine("duckdb") as duck:
        rows = normalise(duck.query(sql, params))
    # a 08:00-08:40 at V1 meets b 08:25-09:30 (15 min); at C9 08:00-10:00 meets c from 09:30 (30 min)
    assert rows == [("a", "b", "V1", 15.0), ("a", "c", "C9", 30.0)]


def test_placeholders_become_literals():
    sql = to_spark("SELECT * FROM t WHERE ts >= $t AND k = $k", {"t": T0, "k": "x'y"})
    assert "CAST('2020-01-20 08:00:00' AS TIMESTAMP)" in sql
    assert "'x\\'y'" in sql or "'x''y'" in sql
    with pytest.raises(KeyError, match=r"\$missing"):
        to_spark("SELECT $missing", {"other": 1})


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of duckdb, spark"):
        get_engine("oracle")


def test_missing_spark_extra_says_how_to_install(monkeypatch):
    import builtins
    import sys

    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name.startswith("pyspark"):
            raise ImportError("No module named 'pyspark'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "epicenter.engine.spark", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(EngineUnavailable, match=r"pip install 'epicenter\[spark\]'"):
        get_engine("spark")
