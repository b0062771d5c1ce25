"""Speed of the smart-meter writer at city scale: ``python -m epicenter.synth.meter_bench``.

Builds synthetic inputs shaped like the core generator's (households with 1-5 members who
leave for work or school on weekdays, a mix of occupancy states, one enterprise per ~35
households) and times ``MeterWriter.write_day`` for a few days. Figures go to
``docs/synth_meters.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from epicenter.synth.meter_format import SLOTS
from epicenter.synth.meter_load import STATES
from epicenter.synth.meters import MeterWriter

STATE_SHARES = (0.86, 0.03, 0.06, 0.03, 0.015, 0.005)


def inputs(n_households: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    n = n_households
    households = pa.table({
        "household_id": [f"H{i:09d}" for i in range(n)],
        "meter_id": [f"EM{i:010d}" for i in range(n)],
        "area_code": [f"4201{i % 13:02d}{i % 97:03d}{i % 7:03d}" for i in range(n)],
        "address": [f"{i % 500} Jiefang Road, Building {i % 37}, Room {i % 1200}" for i in range(n)],
        "registered_persons": rng.integers(1, 6, n),
    })
    ne = max(n // 35, 1)
    industries = ("factory", "office", "restaurant", "retail", "construction", "hotel")
    enterprises = pa.table({
        "meter_id": [f"EE{i:010d}" for i in range(ne)],
        "venue_code": [f"V{i:08d}" for i in range(ne)],
        "area_code": [f"4201{i % 13:02d}{i % 97:03d}{i % 7:03d}" for i in range(ne)],
        "industry": [industries[i % len(industries)] for i in range(ne)],
        "n_workers": rng.integers(3, 300, ne),
        "resumption_date": pa.array([dt.date(2020, 2, 3) + dt.timedelta(days=int(d))
                                     for d in rng.integers(-10, 20, ne)]),
    })
    return households, enterprises


def occupancy(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members home / awake per slot: out 08:00-18:00 for workers, asleep 23:00-07:00."""
    members = rng.integers(1, 6, n)
    leavers = rng.binomial(members, 0.6)
    slot = np.arange(SLOTS)[None, :]
    out = (slot >= 32 + rng.integers(-4, 4, (n, 1))) & (slot < 72 + rng.integers(-4, 8, (n, 1)))
    home = (members[:, None] - np.where(out, leavers[:, None], 0)).astype(np.int16)
    asleep = (slot < 28 + rng.integers(-4, 4, (n, 1))) | (slot >= 92 + rng.integers(-4, 4, (n, 1)))
    awake = np.where(asleep, 0, home).astype(np.int16)
    states = rng.choice(np.array(STATES), n, p=STATE_SHARES)
    return home, awake, states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=350_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    households, enterprises = inputs(args.households, rng)
    home, awake, states = occupancy(args.households, rng)
    # other work on the machine inflates wall times: report how busy it was
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        t0 = time.perf_counter()
        writer = MeterWriter(tmp, households, enterprises, dt.date(2020, 1, 20), args.days, rng)
        print(f"setup (meter.csv, parameters): {time.perf_counter() - t0:.2f} s")
        for d in range(args.days):
            t0, cpu0 = time.perf_counter(), time.process_time()
            date = dt.date(2020, 1, 20) + dt.timedelta(days=d)
            writer.write_day(d, date, home, awake, states)
            size = (Path(tmp) / "meter_reading" / f"{date}.csv").stat().st_size
            print(f"day {d}: {time.perf_counter() - t0:.2f} s wall, "
                  f"{time.process_time() - cpu0:.2f} s CPU, "
                  f"{(args.households + enterprises.num_rows) * SLOTS:,} readings, "
                  f"{size / 1e9:.2f} GB")
        writer.finish()
        print(f"dirty rows listed: {len(writer.dirty_rows)}")


if __name__ == "__main__":
    main()
