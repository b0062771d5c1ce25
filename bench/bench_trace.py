"""Contact-tracing benchmark: Epicenter (trace index, DuckDB, Spark) vs PostgreSQL 15 (GiST) vs pandas.

    python bench/bench_trace.py --home HOME [--cases 1000] [--no-index] [--no-plain]
        [--spark] [--postgres [--pg-dir DIR] [--pg-load-only]] [--pandas] [--json OUT]

Queries, all on the same ingested warehouse, in one run (ratios are of the same moment):
* ``contacts``: Epicenter's full rule set (find_contacts) for one case (warm, median of 5)
  and for N cases at once, with the trace index; one case on the plain tables too;
* ``colocation``: the core every system answers identically — for each case, everyone
  whose stay at the same place (venue, hotel room, cell) overlaps one of the case's stays
  inside the case's window, with the summed overlap: Epicenter (``trace.copresence`` on the
  trace index), the same definition in SQL on DuckDB over the plain tables, PostgreSQL 15
  with a GiST index on (place_id, tsrange) (started here on loopback), and a plain pandas
  merge. Pair counts are reported for each so the answers can be compared;
* ``near``: everyone at the busiest venue over 15 days (index, and plain tables).
Cases are the warehouse's known cases, topped up with random residents (window: 5 days
ending on a random day) to reach N.
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
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from epicenter.settings import load_settings
from epicenter.trace import find_contacts, load_profile
from epicenter.trace import index as trace_index
from epicenter.trace.copresence import COLOCATION_SQL, colocation
from epicenter.trace.near import near
from epicenter.trace.windows import SEED_SCHEMA

PG_COLOCATION = """
SELECT count(*) FROM (
  SELECT c.case_key, o.person_key, sum(EXTRACT(EPOCH FROM upper(c.during * o.during)
                                               - lower(c.during * o.during)))
  FROM (SELECT w.case_key, s.place_id, s.during * w.win AS during
        FROM bench_windows w JOIN stays s ON s.person_key = w.case_key AND s.during && w.win) c
  JOIN stays o ON o.place_id = c.place_id AND o.during && c.during
  WHERE o.person_key <> c.case_key
  GROUP BY 1, 2) x;
"""


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


def pandas_colocation(settings, windows: pa.Table) -> tuple[float, float, int]:
    """Plain pandas: read the window's day partitions, merge on place, filter overlap."""
    import pyarrow.dataset as ds

    t = time.perf_counter()
    d0 = min(windows.column("win_start").to_pylist()).date() - dt.timedelta(days=1)
    d1 = max(windows.column("win_end").to_pylist()).date()
    data = ds.dataset(settings.warehouse.files()["stays"], format="parquet",
                      partitioning=ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive"),
                      partition_base_dir=str(settings.home / "curated" / "stays"))
    day = ds.field("day")
    stays = data.to_table(
        columns=["person_key", "place_kind", "place_id", "start_time", "end_time"],
        filter=(day >= pa.scalar(d0)) & (day <= pa.scalar(d1))
        & ds.field("place_kind").isin(["venue", "hotel_room", "cell"])).to_pandas()
    stays = stays[stays.end_time > stays.start_time]  # same population as the other systems
    load = time.perf_counter() - t
    t = time.perf_counter()
    n = 0
    for w in windows.to_pylist():  # case by case: one merge of all cases exhausts 24 GB
        c = stays[stays.person_key == w["seed_key"]]
        c = c[(c.start_time < w["win_end"]) & (c.end_time > w["win_start"])]
        c = c.assign(s0=c.start_time.clip(lower=w["win_start"]), s1=c.end_time.clip(upper=w["win_end"]))
        near = stays[stays.place_id.isin(c.place_id.unique())]
        pairs = c[["place_id", "s0", "s1"]].merge(near, on="place_id")
        pairs = pairs[(pairs.start_time < pairs.s1) & (pairs.end_time > pairs.s0)
                      & (pairs.person_key != w["case_key"])]
        lo = pairs[["s0", "start_time"]].max(axis=1)
        hi = pairs[["s1", "end_time"]].min(axis=1)
        pairs = pairs.assign(overlap=(hi - lo).dt.total_seconds())
        n += len(pairs.groupby("person_key")["overlap"].sum())
    return load, time.perf_counter() - t, n


class Postgres:
    """A PostgreSQL 15 cluster on loopback, owned by the postgres user, started (and
    stopped) by the benchmark. Its folder may be kept (``--pg-dir``): a rerun then starts
    the same cluster and skips the load when it holds the same warehouse's stays."""

    def __init__(self, root: Path, port: int = 55433) -> None:
        self.root, self.port = root, port
        self.bin = Path("/usr/lib/postgresql/15/bin")
        self.data = root / "pgdata"

    def _as_pg(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True,
                              capture_output=True, text=True, **kw)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._as_pg(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"),
                    "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
                    " -c shared_buffers=1GB -c work_mem=256MB -c max_parallel_workers_per_gather=2",
                    "-w", "start")

    def psql(self, sql: str) -> str:
        return self._as_pg("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                           "-At", "-v", "ON_ERROR_STOP=1", "-f", "-", input=sql).stdout

    def loaded_stamp(self) -> str | None:
        out = self.psql("SELECT stamp FROM bench_meta WHERE to_regclass('stays') IS NOT NULL;"
                        if self._has_meta() else "SELECT NULL;").strip()
        return out or None

    def _has_meta(self) -> bool:
        return self.psql("SELECT to_regclass('bench_meta') IS NOT NULL;").strip() == "t"

    def load(self, engine, root: Path, stamp: str) -> float:
        """Load the stays and build the indexes; returns the seconds it took."""
        csv = root / "stays.csv"
        engine.execute(f"COPY (SELECT person_key, place_id, strftime(start_time, '%Y-%m-%d %H:%M:%S'),"
                       f" strftime(end_time, '%Y-%m-%d %H:%M:%S') FROM stays WHERE place_kind IN "
                       f"('venue', 'hotel_room', 'cell') AND end_time > start_time) TO '{csv}' (HEADER false)")
        shutil.chown(csv, "postgres")
        t = time.perf_counter()
        self.psql(f"""CREATE EXTENSION IF NOT EXISTS btree_gist;
            DROP TABLE IF EXISTS bench_meta; DROP TABLE IF EXISTS stays; DROP TABLE IF EXISTS raw;
            CREATE UNLOGGED TABLE raw (person_key text, place_id text, s timestamp, e timestamp);
            COPY raw FROM '{csv}' (FORMAT csv);
            CREATE TABLE stays AS SELECT person_key, place_id, tsrange(s, e) AS during FROM raw;
            DROP TABLE raw;
            CREATE INDEX stays_place_during ON stays USING gist (place_id, during);
            CREATE INDEX stays_person ON stays (person_key);
            ANALYZE stays;
            CREATE TABLE bench_meta (stamp text); INSERT INTO bench_meta VALUES ('{stamp}');""")
        csv.unlink()
        return time.perf_counter() - t

    def colocation(self, windows: pa.Table) -> tuple[float, int]:
        values = ",".join(f"('{r['case_key']}', tsrange('{r['win_start']}', '{r['win_end']}'))"
                          for r in windows.to_pylist())
        script = (f"CREATE TEMP TABLE bench_windows (case_key text, win tsrange);\n"
                  f"INSERT INTO bench_windows VALUES {values};\nANALYZE bench_windows;\n"
                  f"{PG_COLOCATION}\n\\timing on\n{PG_COLOCATION}")
        out = self.psql(script).strip().splitlines()
        ms = float(next(ln for ln in out if ln.startswith("Time:")).split()[1])
        return ms / 1000, int(out[-2] if out[-1].startswith("Time:") else out[-1])

    def stop(self) -> None:
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _postgres(args, engine, warehouse, res: dict) -> Postgres:
    """Start PostgreSQL (kept in --pg-dir, else a temporary folder) and load it if needed."""
    pg = Postgres(args.pg_dir or Path(tempfile.mkdtemp(prefix="pgbench-")))
    pg.start()
    stamp = trace_index.stamp(warehouse)
    if pg.loaded_stamp() == stamp:
        res["postgres_load_index_s"] = "reused (loaded by an earlier run)"
    else:
        res["postgres_load_index_s"] = pg.load(engine, pg.root, stamp)
    return pg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--pg-dir", type=Path, default=None,
                    help="Keep PostgreSQL's cluster here; a rerun reuses its loaded stays.")
    ap.add_argument("--pg-load-only", action="store_true",
                    help="Start PostgreSQL, load the stays if needed, stop (no timings).")
    ap.add_argument("--pandas", action="store_true")
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
        print(json.dumps(res, indent=1))
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
            res["postgres_colocation_one_s"], res["postgres_pairs_one"] = pg.colocation(one)
            res["postgres_colocation_many_s"], res["postgres_pairs_many"] = pg.colocation(windows)
    finally:
        if pg is not None:
            pg.stop()
            if args.pg_dir is None:
                shutil.rmtree(pg.root, ignore_errors=True)
    if args.pandas:
        load1, q1, n1 = pandas_colocation(settings, one)
        # the plain merge materialises every candidate pair: 100 cases is already minutes
        hundred = windows.slice(0, 100)
        loadn, qn, n = pandas_colocation(settings, hundred)
        if trace_index.attached(engine) is not None:
            res["epicenter_colocation_100_s"], _ = timed(
                lambda: colocation(trace_index.attached(engine), hundred, d0, d1))
        res.update(pandas_one_load_s=load1, pandas_one_query_s=q1, pandas_pairs_one=n1,
                   pandas_100_load_s=loadn, pandas_100_query_s=qn, pandas_pairs_100=n)
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
    res = {k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}
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
        res["epicenter_colocation_one_s"], c1 = timed(lambda: colocation(index, one, *days), 5)
        res["epicenter_colocation_one_cpu_s"] = timed.cpu
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
