"""Contact-tracing benchmark: Epicenter (trace index, DuckDB, Spark) vs PostgreSQL 15 (GiST) vs pandas.

    python bench/bench_trace.py --home HOME [--cases 1000] [--no-index] [--no-plain]
        [--spark] [--postgres [--pg-dir DIR] [--pg-port N] [--pg-load-only]] [--pandas [--pandas-cases N]]
        [--json OUT]

Queries, all on the same ingested warehouse, in one run (ratios are of the same moment):
* ``contacts``: Epicenter's full rule set (find_contacts) for one case (warm, median of 5)
  and for N cases at once, with the trace index; one case on the plain tables too;
* ``colocation``: the core every system answers identically — for each case, everyone
  whose stay at the same place (venue, hotel room, cell) overlaps one of the case's stays
  inside the case's window, with the summed overlap: Epicenter (``trace.copresence`` on the
  trace index), the same definition in SQL on DuckDB over the plain tables, PostgreSQL 15
  with a GiST index on (place, tsrange) (``trace_postgres``: started here on loopback,
  integer codes and (place, start) order like the index), and a plain pandas merge
  (``trace_pandas``). Pair counts are reported for each so the answers can be compared;
* ``near``: everyone at the busiest venue over 15 days (index, and plain tables).
Cases are the warehouse's known cases, topped up with random residents (window: 5 days
ending on a random day) to reach N. One case's co-location is timed at steady state on
both sides the same way: a warm-up run, then the median of ``ONE_CASE_REPEAT`` runs (the
first runs after other work are up to twice as slow for both, from cold CPU caches).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import trace_pandas  # sibling modules: run as a script, bench/ is on sys.path
from trace_postgres import LAYOUT, Postgres

from epicenter.settings import load_settings
from epicenter.trace import find_contacts, load_profile
from epicenter.trace import index as trace_index
from epicenter.trace.copresence import COLOCATION_SQL, colocation
from epicenter.trace.near import near
from epicenter.trace.windows import SEED_SCHEMA

ONE_CASE_REPEAT = 21


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Median wall seconds of ``repeat`` runs and the last result; the CPU seconds of this
    process (DuckDB's threads included) go to ``timed.cpu``."""
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    timed.cpu = statistics.median(cpus)
    return statistics.median(times), out


def pick_windows(engine, n: int, seed: int = 7) -> pa.Table:
    """Known cases' exposure windows, topped up with random residents to n."""
    span = engine.query("SELECT min(day) AS a, max(day) AS b FROM stays").to_pylist()[0]
    as_of = dt.datetime.combine(span["b"], dt.time()) + dt.timedelta(days=1)
    cases = engine.query("SELECT person_key FROM cases WHERE first_positive_time IS NOT NULL "
                         "ORDER BY person_key").column("person_key").to_pylist()
    from epicenter.trace import exposure_windows

    w = exposure_windows(engine, cases, load_profile(), as_of).to_pylist() if cases else []
    rows = [(r["case_key"], r["case_key"], r["win_start"], r["win_end"]) for r in w
            if r["win_end"] > r["win_start"]][:n]
    rng = random.Random(seed)
    people = engine.query("SELECT DISTINCT person_key FROM stays WHERE place_kind = 'venue' "
                          "ORDER BY 1").column("person_key").to_pylist()
    taken = {r[0] for r in rows}
    days = (span["b"] - span["a"]).days
    for p in rng.sample(people, min(len(people), 3 * n)):
        if len(rows) >= n:
            break
        if p in taken:
            continue
        end = dt.datetime.combine(span["a"], dt.time()) + dt.timedelta(days=rng.randint(5, days))
        rows.append((p, p, end - dt.timedelta(days=5), end))
    return pa.table(list(zip(*rows, strict=True)), schema=SEED_SCHEMA)


def duck_colocation(engine, windows: pa.Table, d0: dt.date, d1: dt.date) -> int:
    """The co-location query in SQL on the plain tables (DuckDB, or Spark transpiled)."""
    engine.register_arrow("colocation_windows", windows)
    return engine.query(COLOCATION_SQL, {"d0": d0, "d1": d1}).num_rows


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _postgres(args, engine, warehouse, res: dict) -> Postgres:
    """Start PostgreSQL (kept in --pg-dir, else a temporary folder) and load it if needed."""
    pg = Postgres(args.pg_dir or Path(tempfile.mkdtemp(prefix="pgbench-")), port=args.pg_port)
    pg.start()
    stamp = f"{trace_index.stamp(warehouse)}:{LAYOUT}"
    if pg.loaded_stamp() == stamp:
        res["postgres_load"] = "reused (loaded by an earlier run)"
    else:
        res["load_avg_before_postgres_load"] = _load()
        res["postgres_load"] = pg.load(engine, stamp)
        res["load_avg_after_postgres_load"] = _load()
    return pg


def _pandas(args, settings, engine, windows, days, res: dict) -> None:
    """pandas on one case and on --pandas-cases, and Epicenter on the same cases."""
    files = settings.warehouse.files()["stays"]
    n = min(args.pandas_cases or windows.num_rows, windows.num_rows)
    for name, w in (("one", windows.slice(0, 1)), (str(n), windows.slice(0, n))):
        res[f"load_avg_before_pandas_{name}"] = _load()
        out = trace_pandas.run(settings.home, files, w)
        res.update({f"pandas_{name}_{k}": round(v, 4) if isinstance(v, float) else v
                    for k, v in out.items()})
    index = trace_index.attached(engine)
    if index is not None and n != windows.num_rows:
        res[f"epicenter_colocation_{n}_s"], _ = timed(lambda: colocation(index, windows.slice(0, n), *days))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--pg-port", type=int, default=55433,
                    help="Loopback port of the benchmark's PostgreSQL (two clusters at once need two).")
    ap.add_argument("--pg-dir", type=Path, default=None,
                    help="Keep PostgreSQL's cluster here; a rerun reuses its loaded stays.")
    ap.add_argument("--pg-load-only", action="store_true",
                    help="Start PostgreSQL, load the stays if needed, stop (no timings).")
    ap.add_argument("--pandas", action="store_true")
    ap.add_argument("--pandas-cases", type=int, default=None,
                    help="Cases for the pandas co-location (default: all --cases).")
    ap.add_argument("--no-plain", action="store_true",
                    help="Skip the timings on the plain tables (no index).")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-index", action="store_true",
                    help="Query the plain stays tables (default: the trace index, built if stale).")
    args = ap.parse_args()
    settings = load_settings(home=args.home)
    warehouse = settings.warehouse
    engine = warehouse.open_engine("duckdb")
    res: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB",
                 "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
    if args.pg_load_only:
        _postgres(args, engine, warehouse, res).stop()
        print(json.dumps(res, indent=1, default=str))
        return
    counts = engine.query("SELECT place_kind, count(*) AS n FROM stays GROUP BY 1 ORDER BY 1").to_pylist()
    windows = pick_windows(engine, args.cases)
    one = windows.slice(0, 1)
    as_of = max(windows.column("win_end").to_pylist())
    d0 = min(windows.column("win_start").to_pylist()).date() - dt.timedelta(days=1)
    d1 = max(windows.column("win_end").to_pylist()).date()
    profile = load_profile()
    res.update({"stays": {r["place_kind"]: r["n"] for r in counts},
                "legs": engine.query("SELECT count(*) AS n FROM legs").column("n")[0].as_py(),
                "cases": windows.num_rows, "load_avg_start": _load()})
    pg = _postgres(args, engine, warehouse, res) if args.postgres else None
    try:
        _epicenter(args, settings, engine, windows, one, as_of, profile, (d0, d1), res)
        if pg is not None:
            res["load_avg_before_postgres"] = _load()
            (res["postgres_colocation_one_s"], res["postgres_colocation_one_cpu_s"],
             res["postgres_pairs_one"]) = pg.colocation(one, repeat=ONE_CASE_REPEAT)
            (res["postgres_colocation_many_s"], res["postgres_colocation_many_cpu_s"],
             res["postgres_pairs_many"]) = pg.colocation(windows)
    finally:
        if pg is not None:
            pg.stop()
            if args.pg_dir is None:
                shutil.rmtree(pg.root, ignore_errors=True)
    if args.pandas:
        _pandas(args, settings, engine, windows, (d0, d1), res)
    if args.spark:
        spark = warehouse.open_engine("spark")
        find_contacts(spark, one, profile, as_of=as_of)
        res["spark_contacts_one_s"], _ = timed(lambda: find_contacts(spark, one, profile, as_of=as_of))
        hundred = windows.slice(0, 100)  # local mode on 2 cores: 1,000 cases would take long
        res["spark_contacts_100_s"], _ = timed(lambda: find_contacts(spark, hundred, profile, as_of=as_of))
        res["spark_colocation_one_s"], _ = timed(lambda: duck_colocation(spark, one, d0, d1))
    for n in ("one", "many"):
        ours, theirs = res.get(f"epicenter_colocation_{n}_s"), res.get(f"postgres_colocation_{n}_s")
        if ours and theirs:
            res[f"postgres_over_epicenter_{n}"] = theirs / ours
    res["load_avg_end"] = _load()
    res = {k: round(v, 6) if isinstance(v, float) else v for k, v in res.items()}
    text = json.dumps(res, indent=1, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def _epicenter(args, settings, engine, windows, one, as_of, profile, days, res: dict) -> None:
    """Epicenter's own timings: contacts, near, co-location (index and plain tables)."""
    if not args.no_index:
        fresh = trace_index.is_fresh(settings.warehouse)
        t = time.perf_counter()
        trace_index.register(engine, settings.warehouse, build=True)
        res["index_build_s"] = None if fresh else time.perf_counter() - t
    res["index"] = trace_index.attached(engine) is not None
    find_contacts(engine, one, profile, as_of=as_of)  # warm-up: file metadata, plans
    res["contacts_one_s"], t1 = timed(lambda: find_contacts(engine, one, profile, as_of=as_of), 5)
    res["contacts_one_cpu_s"] = timed.cpu
    res["contacts_many_s"], tn = timed(lambda: find_contacts(engine, windows, profile, as_of=as_of))
    res["contacts_many_cpu_s"] = timed.cpu
    res["contact_rows_one"], res["contact_rows_many"] = t1.num_rows, tn.num_rows
    res["load_avg_after_contacts"] = _load()
    venue = engine.query("SELECT place_id, count(*) AS n FROM stays WHERE place_kind = 'venue' "
                         "GROUP BY 1 ORDER BY n DESC LIMIT 1").to_pylist()[0]
    start = dt.datetime.combine(min(windows.column("win_start").to_pylist()).date(), dt.time())
    stop = start + dt.timedelta(days=15)
    near(engine, start, stop, venue=venue["place_id"])
    res["near_15d_s"], nr = timed(lambda: near(engine, start, stop, venue=venue["place_id"]), 3)
    res["near_rows"] = nr.num_rows
    index = trace_index.attached(engine)
    if index is not None:
        colocation(index, one, *days)
        res["epicenter_colocation_one_s"], c1 = timed(lambda: colocation(index, one, *days),
                                                       ONE_CASE_REPEAT)
        res["epicenter_colocation_one_cpu_s"] = timed.cpu
        colocation(index, windows, *days)  # warm, as PostgreSQL's query is
        res["epicenter_colocation_many_s"], cn = timed(lambda: colocation(index, windows, *days))
        res["epicenter_colocation_many_cpu_s"] = timed.cpu
        res["epicenter_pairs_one"], res["epicenter_pairs_many"] = c1.num_rows, cn.num_rows
    if args.no_plain:
        return
    with settings.warehouse.open_engine("duckdb") as plain:
        find_contacts(plain, one, profile, as_of=as_of)
        res["plain_contacts_one_s"], _ = timed(lambda: find_contacts(plain, one, profile, as_of=as_of), 3)
        near(plain, start, stop, venue=venue["place_id"])
        res["plain_near_15d_s"], _ = timed(lambda: near(plain, start, stop, venue=venue["place_id"]), 3)
        duck_colocation(plain, one, *days)
        res["duckdb_colocation_one_s"], res["duckdb_pairs_one"] = timed(
            lambda: duck_colocation(plain, one, *days), 3)
        res["duckdb_colocation_many_s"], res["duckdb_pairs_many"] = timed(
            lambda: duck_colocation(plain, windows, *days))


if __name__ == "__main__":
    main()
