"""Benchmark the synthetic city generator: wall time, CPU time and peak memory.

    python bench/bench_synth.py --persons 100000 --days 28 [--out DIR] [--keep]

Prints one JSON line per run; the figures go to docs/synth.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from epicenter.synth import generate


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the output")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="epicenter-bench-")) / "city"
    t0, c0 = time.perf_counter(), time.process_time()
    summary = generate(out, args.persons, args.days, args.seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"persons": args.persons, "days": args.days, "wall_s": round(wall, 1),
              "cpu_s": round(cpu, 1), "peak_rss_mb": round(peak_mb), "output_mb": round(du(out) / 2**20),
              "rows": sum(summary["counts"].values()), "infections": summary["infections"],
              "cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 1)}
    print(json.dumps(result))
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
