"""Ingest throughput and peak memory for cell_signaling and venue_scan reference CSVs.

    python bench/bench_ingest.py [--rows 10000000] [--work /tmp/epicenter-bench] [--reuse]

Generates the reference data and one CSV of ``--rows`` rows per kind covering one day,
like a carrier's or a venue platform's daily delivery (DuckDB SQL, not timed), then ingests each file in a fresh child process and reports wall time, rows/s
the child's CPU time and peak resident memory (its own ``ru_maxrss``), and the load average. Figures go to docs/ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from epicenter.engine import Session

# each ingest runs in a fresh interpreter started from a small parent (the generator
# also runs in a child): a forked child inherits its parent's resident-size high-water
# mark, so a big parent would inflate the measured peak
CHILD = """
import resource, sys
from epicenter.ingest.pipeline import ingest_file
from epicenter.settings import load_settings
rec = ingest_file(load_settings(home=sys.argv[1]), sys.argv[2], sys.argv[3])
use = resource.getrusage(resource.RUSAGE_SELF)
print(rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"], rec["rows_duplicate"],
      use.ru_maxrss, use.ru_utime + use.ru_stime)
"""


KINDS = ("area", "cell_tower", "venue", "person", "cell_signaling", "venue_scan")


def generate(work: Path, rows: int, persons: int, cells: int, venues: int) -> None:
    d = work / "delivery"
    d.mkdir(parents=True, exist_ok=True)
    with Session(threads=2) as s:
        s.execute(f"""COPY (SELECT 'A' || i AS area_code, 'Area ' || i AS name,
            CASE WHEN i = 0 THEN 'city' ELSE 'district' END AS level,
            CASE WHEN i = 0 THEN NULL ELSE 'A0' END AS parent_code, 1000 AS population,
            116 + i / 100.0 AS lon, 39 + i / 100.0 AS lat FROM range(10) t(i))
            TO '{d}/area.csv' (HEADER)""")
        s.execute(f"""COPY (SELECT 'C' || i AS cell_id, 116 + (i % 100) / 100.0 AS lon,
            39 + (i // 100) / 100.0 AS lat, 500 AS radius_m, 'A' || (1 + i % 9) AS area_code
            FROM range({cells}) t(i)) TO '{d}/cell_tower.csv' (HEADER)""")
        s.execute(f"""COPY (SELECT 'V' || i AS venue_code, 'Venue ' || i AS name,
            ['market','restaurant','office','school','clinic','other'][1 + i % 6] AS category,
            116 + (i % 100) / 100.0 AS lon, 39 + (i // 100) / 100.0 AS lat,
            'A' || (1 + i % 9) AS area_code, 100 AS capacity FROM range({venues}) t(i))
            TO '{d}/venue.csv' (HEADER)""")
        # valid id_no: 17 digits + GB 11643 check digit
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        total = " + ".join(f"CAST(substr(b, {k + 1}, 1) AS INTEGER) * {w}" for k, w in enumerate(weights))
        s.execute(f"""CREATE TABLE ids AS SELECT i, b || substr('10X98765432', ({total}) % 11 + 1, 1)
            AS id_no, '13' || lpad(CAST(i AS VARCHAR), 9, '0') AS phone
            FROM (SELECT i, '1101051985' || lpad(CAST(i AS VARCHAR), 7, '0') AS b
                  FROM range({persons}) t(i))""")
        s.execute(f"""COPY (SELECT id_no, phone, 'N' || i AS name, 1985 AS birth_year,
            CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex, 'A1' AS home_area_code,
            'Lane ' || (i // 3) AS home_address FROM ids WHERE i % 10 <> 0)
            TO '{d}/person.csv' (HEADER)""")
        s.execute(f"""COPY (SELECT '13' || lpad(CAST(hash(i) % {persons} AS VARCHAR), 9, '0') AS phone,
            'C' || (hash(i + 7) % {cells}) AS cell_id,
            strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(i * 86400 // {rows} AS BIGINT)),
                     '%Y-%m-%d %H:%M:%S') AS start_time,
            strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(i * 86400 // {rows} + 600 + hash(i) % 3000 AS BIGINT)),
                     '%Y-%m-%d %H:%M:%S') AS end_time
            FROM range({rows}) t(i)) TO '{d}/cell_signaling.csv' (HEADER)""")
        s.execute(f"""COPY (SELECT CASE WHEN t.r % 3 = 0 THEN ids.id_no END AS id_no,
            CASE WHEN t.r % 3 <> 0 THEN ids.phone END AS phone,
            'V' || (hash(t.r + 3) % {venues}) AS venue_code,
            strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(t.r * 86400 // {rows} AS BIGINT)),
                     '%Y-%m-%d %H:%M:%S') AS scan_time,
            ['in', 'out', NULL][1 + t.r % 3] AS direction
            FROM range({rows}) t(r) JOIN ids ON ids.i = hash(t.r) % {persons} ORDER BY t.r)
            TO '{d}/venue_scan.csv' (HEADER)""")


def duckdb_version() -> str:
    with Session() as s:
        return s.scalar("SELECT version()")


def run_child(home: Path, kind: str, path: Path) -> dict:
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(home), kind, str(path)],
                         check=True, capture_output=True, text=True, env=os.environ.copy())
    seconds = time.perf_counter() - t0
    *counts, peak_kb, cpu = out.stdout.split()
    read, loaded, bad, dup = map(int, counts)
    return {"kind": kind, "rows": read, "loaded": loaded, "quarantined": bad, "duplicate": dup,
            "seconds": round(seconds, 2), "rows_per_s": round(read / seconds),
            "file_mb": round(path.stat().st_size / 1e6, 1), "peak_rss_mb": round(int(peak_kb) / 1024),
            # CPU seconds of the ingest process: less sensitive than wall time to other load
            "cpu_seconds": round(float(cpu), 1), "load_avg_1m_start": round(load_start, 1),
            "load_avg_1m": round(os.getloadavg()[0], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/epicenter-bench"))
    ap.add_argument("--reuse", action="store_true",
                    help="keep the generated files of an earlier run with the same --work")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    files = {k: args.work / "delivery" / f"{k}.csv" for k in KINDS}
    reuse = args.reuse and all(f.exists() for f in files.values())
    if not args.generate_only:
        shutil.rmtree(args.work / "home", ignore_errors=True)
        if not reuse:
            shutil.rmtree(args.work, ignore_errors=True)
    os.environ.setdefault("EPICENTER_SECRET_FILE", str(args.work / "secret"))
    t0 = time.perf_counter()
    if args.generate_only:
        generate(args.work, args.rows, args.persons, cells=20_000, venues=20_000)
        return
    if not reuse:
        subprocess.run([sys.executable, __file__, "--generate-only", "--rows", str(args.rows),
                        "--persons", str(args.persons), "--work", str(args.work)], check=True)
        print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    home = args.work / "home"
    results = []
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    for kind in KINDS:
        r = run_child(home, kind, files[kind])
        print(json.dumps(r), file=sys.stderr)
        results.append(r)
    print(json.dumps({"cpus": os.cpu_count(), "started": started, "duckdb": duckdb_version(),
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
