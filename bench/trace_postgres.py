"""PostgreSQL 15 as the tracing benchmark's peer: a cluster on loopback, the stays with a
GiST index on (place, tsrange), and the co-location query (``bench_trace.py``).

Layout, chosen to make PostgreSQL as strong as Epicenter's own index and its load short:

* places and persons are integer codes, as in Epicenter's trace index (``stayindex``: int32
  place and person codes). The codes are dense ranks computed once in DuckDB at export; the
  persons dictionary is a PostgreSQL table the query joins to turn case keys into codes, so
  PostgreSQL answers from the same text keys Epicenter gets. Equality on a code is equality
  on the key, so the pairs are the same ones. With text keys (64-character HMACs) the GiST
  build spent ~90 % of the load comparing strings (measured: 117 s of 131 s for 2.5 M stays);
* the stays are exported sorted by (place, start), like the index: the heap is then
  clustered by place, and the co-location query (a GiST probe per case stay, heap fetches
  of the neighbours) ran 1.7-2x faster than on a heap in day order (3.0 s vs 5.3-6.5 s, 200
  persons, 2.5 M stays). The GiST build costs 1.2-1.5x more per row in this order than in
  time order (2x more than in random order); a stronger peer is worth it;
* one transaction creates the table, COPYs it (FREEZE: no hint-bit writes on first read)
  and builds the indexes, with ``wal_level=minimal``: a table created in the transaction is
  not WAL-logged but fsynced at commit, so the load writes each page once and the table is
  an ordinary, crash-safe one. The CSV is deleted right after the COPY (disk at 1M);
* no index the query does not use: GiST on (place, during) and a btree on person.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pyarrow as pa

LAYOUT = "int-codes-sorted-1"  # part of the load stamp: a cluster with an older layout is reloaded
KINDS = "('venue', 'hotel_room', 'cell')"
# settings for a 24 GB machine shared with other jobs; effective_cache_size keeps the GiST
# build out of its buffering mode (no faster here, measured), minimal WAL as explained above.
# random_page_cost 1.1 (SSD, data cached): with the default 4 the planner probed the GiST
# index of one case's stays on the place alone and filtered the time afterwards (0.27-0.68 s
# instead of 0.01-0.02 s; with 1,000 cases it used both columns either way)
SERVER = {
    "listen_addresses": "127.0.0.1", "shared_buffers": "2GB", "work_mem": "256MB",
    "maintenance_work_mem": "2GB", "effective_cache_size": "12GB", "random_page_cost": "1.1",
    "max_parallel_workers_per_gather": "2", "max_parallel_maintenance_workers": "2",
    "wal_level": "minimal", "max_wal_senders": "0", "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}
TS = "'%Y-%m-%d %H:%M:%S'"  # the resolution of the generator's times (pair counts are compared)

# the co-location definition (``trace.copresence``) on codes; case keys map through persons
COLOCATION = """
SELECT count(*) FROM (
  SELECT c.case_key, o.person, sum(EXTRACT(EPOCH FROM upper(c.during * o.during)
                                           - lower(c.during * o.during)))
  FROM (SELECT w.case_key, p.code AS person, s.place, s.during * w.win AS during
        FROM bench_windows w JOIN persons p ON p.person_key = w.case_key
        JOIN stays s ON s.person = p.code AND s.during && w.win) c
  JOIN stays o ON o.place = c.place AND o.during && c.during
  WHERE o.person <> c.person
  GROUP BY 1, 2) x;
"""


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
        opts = " ".join(f"-c {k}={v}" for k, v in SERVER.items())
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"),
                    "-o", f"-p {self.port} -c unix_socket_directories={self.root} {opts}", "-w", "start")

    def stop(self) -> None:
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def psql(self, sql: str) -> str:
        return self._as_pg("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                           "-At", "-v", "ON_ERROR_STOP=1", "-f", "-", input=sql).stdout

    def cpu_s(self) -> float:
        """CPU seconds of the cluster so far: the postmaster's own and its reaped children's
        (every backend and parallel worker is the postmaster's child and is reaped when it
        exits), so a delta around a finished psql session is that session's server CPU."""
        time.sleep(0.3)  # let the postmaster reap the backend that just exited
        pid = (self.data / "postmaster.pid").read_text().split()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def loaded_stamp(self) -> str | None:
        if self.psql("SELECT to_regclass('bench_meta') IS NOT NULL;").strip() != "t":
            return None
        return self.psql("SELECT stamp FROM bench_meta;").strip() or None

    def export(self, engine, root: Path) -> tuple[Path, Path]:
        """The persons dictionary and the stays (codes, tsrange text), sorted by place and
        start, as CSV files the server reads (DuckDB writes them; not part of the load)."""
        persons, stays = root / "persons.csv", root / "stays.csv"
        # a view, not a table: 83 M rows of 64-character keys would spill gigabytes; the
        # sort below carries codes and times only
        engine.execute(f"""CREATE OR REPLACE TEMP VIEW pg_stays AS
            SELECT person_key, place_id, start_time, end_time FROM stays
            WHERE place_kind IN {KINDS} AND end_time > start_time""")
        engine.execute("""CREATE OR REPLACE TEMP TABLE pg_persons AS SELECT person_key,
            (row_number() OVER (ORDER BY person_key))::INTEGER AS code
            FROM (SELECT DISTINCT person_key FROM pg_stays)""")
        engine.execute("""CREATE OR REPLACE TEMP TABLE pg_places AS SELECT place_id,
            (row_number() OVER (ORDER BY place_id))::INTEGER AS code
            FROM (SELECT DISTINCT place_id FROM pg_stays)""")
        engine.execute(f"COPY pg_persons TO '{persons}' (HEADER false)")
        engine.execute(f"""COPY (SELECT l.code, p.code, '[' || strftime(s.start_time, {TS}) || ','
                || strftime(s.end_time, {TS}) || ')'
            FROM pg_stays s JOIN pg_persons p USING (person_key) JOIN pg_places l USING (place_id)
            ORDER BY l.code, s.start_time) TO '{stays}' (HEADER false)""")
        engine.execute("DROP VIEW pg_stays")
        for t in ("pg_persons", "pg_places"):
            engine.execute(f"DROP TABLE {t}")
        for f in (persons, stays):
            shutil.chown(f, "postgres")
        return persons, stays

    def load(self, engine, stamp: str) -> dict:
        """Export, load and index the stays; returns the seconds of every step."""
        t = time.perf_counter()
        persons, stays = self.export(engine, self.root)
        steps: dict = {"export_duckdb_s": time.perf_counter() - t,
                       "csv_gb": round(stays.stat().st_size / 2**30, 2)}
        cpu, t = self.cpu_s(), time.perf_counter()
        out = self.psql(f"""\\timing on
            CREATE EXTENSION IF NOT EXISTS btree_gist;
            DROP TABLE IF EXISTS bench_meta, stays, persons;
            BEGIN;
            CREATE TABLE persons (person_key text, code integer);
            \\echo @copy_persons
            COPY persons FROM '{persons}' (FORMAT csv, FREEZE);
            CREATE TABLE stays (place integer, person integer, during tsrange);
            \\echo @copy_stays
            COPY stays FROM '{stays}' (FORMAT csv, FREEZE);
            \\! rm -f {stays} {persons}
            \\echo @gist_place_during
            CREATE INDEX stays_place_during ON stays USING gist (place, during);
            \\echo @btree_person
            CREATE INDEX stays_person ON stays (person);
            \\echo @persons_key
            ALTER TABLE persons ADD PRIMARY KEY (person_key);
            \\echo @commit
            COMMIT;
            \\echo @analyze
            ANALYZE stays;
            ANALYZE persons;
            \\timing off
            CREATE TABLE bench_meta (stamp text); INSERT INTO bench_meta VALUES ('{stamp}');
            SELECT pg_total_relation_size('stays') + pg_total_relation_size('persons');""")
        steps["load_index_s"] = time.perf_counter() - t
        steps["server_cpu_s"] = self.cpu_s() - cpu
        step = None
        for line in out.splitlines():
            if line.startswith("@"):
                step = line[1:]
            elif line.startswith("Time:") and step:
                steps[f"{step}_s"] = steps.get(f"{step}_s", 0.0) + float(line.split()[1]) / 1000
                if step != "analyze":
                    step = None
        steps["size_gb"] = round(int(out.strip().splitlines()[-1]) / 2**30, 2)
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in steps.items()}

    def colocation(self, windows: pa.Table, repeat: int = 1) -> tuple[float, float, int]:
        """(wall s, server CPU s, pairs) of the co-location query: run once to warm up, then
        ``repeat`` times in a session of their own (median wall; CPU per run), like
        Epicenter's warm median for one case."""
        values = ",".join(f"('{r['case_key']}', tsrange('{r['win_start']}', '{r['win_end']}'))"
                          for r in windows.to_pylist())
        self.psql(f"DROP TABLE IF EXISTS bench_windows; CREATE TABLE bench_windows "
                  f"(case_key text, win tsrange); INSERT INTO bench_windows VALUES {values};\n"
                  f"ANALYZE bench_windows;\n{COLOCATION}")
        cpu = self.cpu_s()
        out = self.psql("\\timing on\n" + COLOCATION * repeat).strip().splitlines()
        cpu = (self.cpu_s() - cpu) / repeat
        self.psql("DROP TABLE bench_windows;")
        ms = statistics.median(float(ln.split()[1]) for ln in out if ln.startswith("Time:"))
        return ms / 1000, cpu, int(next(ln for ln in out if ln.isdigit()))
