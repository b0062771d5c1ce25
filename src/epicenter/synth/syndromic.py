"""Daily syndromic counts per district: fever-clinic visits and unexplained pneumonia.

Each count is a background level plus the outbreak's signal:
- background: a per-capita daily rate (fever clinics see ~18 visits per 100,000 residents
  a day in winter, unexplained pneumonia ~0.6), a month factor (respiratory season), a
  weekday factor (patients defer to Monday; fewer visits on weekends), and over-dispersed
  noise (negative binomial: day-to-day variation exceeds Poisson in surveillance data);
- outbreak: each newly symptomatic case visits a fever clinic with probability 0.55 after
  0-3 days; 8 % develop pneumonia that is recorded 4-9 days after onset. Visits that would
  fall after the last day are not recorded.
``dirty_rate`` is the per-row chance of one inserted defective row after it (bad_date:
an invalid date, unknown_code: an area code that is not a district, bad_value: negative or
absurd count, duplicate: an exact copy), listed with its physical line (header = 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import numpy as np

COLUMNS = ("date", "area_code", "indicator", "count")
FILE = "syndromic.csv"
INDICATORS = ("fever_clinic_visits", "unexplained_pneumonia")
BASE_PER_100K = np.array([18.0, 0.6])
DISPERSION = np.array([25.0, 5.0])  # negative binomial size: smaller = noisier
WEEKDAY = np.array([1.3, 1.1, 1.0, 1.0, 0.95, 0.8, 0.75])  # Monday .. Sunday
MONTH = np.array([1.3, 1.25, 1.1, 0.95, 0.85, 0.8, 0.8, 0.8, 0.85, 0.95, 1.05, 1.2])
# share of new symptomatic cases seen, and the delay (days after onset) distribution
SEEN = np.array([0.55, 0.08])
DELAYS = (np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7, 8, 9]))
DELAY_P = (np.array([0.35, 0.3, 0.2, 0.15]), np.array([0.1, 0.2, 0.25, 0.2, 0.15, 0.1]))
DEFECTS = ("duplicate", "bad_date", "bad_value", "unknown_code")
DISTRICT_MEDIAN_POP = 120_000


def district_populations(n: int, rng: np.random.Generator) -> np.ndarray:
    """District sizes when the caller has none: lognormal around 120,000."""
    return np.rint(rng.lognormal(np.log(DISTRICT_MEDIAN_POP), 0.5, n)).astype(np.int64)


def expected_background(populations: np.ndarray, dates: list[dt.date]) -> np.ndarray:
    """Mean background count [days, districts, indicators]."""
    week = WEEKDAY[[d.weekday() for d in dates]]
    month = MONTH[[d.month - 1 for d in dates]]
    per_capita = BASE_PER_100K[None, None, :] / 1e5 * (week * month)[:, None, None]
    return per_capita * np.asarray(populations, dtype=np.float64)[None, :, None]


def outbreak_visits(new_symptomatic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Visits caused by the epidemic [days, districts, indicators], by day of the visit."""
    days, n = new_symptomatic.shape
    out = np.zeros((days, n, len(INDICATORS)), dtype=np.int64)
    for k in range(len(INDICATORS)):
        seen = rng.binomial(new_symptomatic.astype(np.int64), SEEN[k])
        by_delay = rng.multinomial(seen.reshape(-1), DELAY_P[k]).reshape(days, n, -1)
        for j, delay in enumerate(DELAYS[k]):
            if delay < days:
                out[delay:, :, k] += by_delay[: days - delay, :, j]
    return out


def _dirty_row(defect: str, row: list, districts: list[str], u: float) -> list:
    date, area, indicator, count = row
    if defect == "bad_date":
        y, m, d = date.split("-")
        date = (f"{y}-{m}-32", f"{y}-13-{d}", "N/A", "")[int(u * 4)]
    elif defect == "bad_value":
        count = -1 - int(u * 20) if u < 0.5 else 10_000_000 + int(u * 1e6)
    elif defect == "unknown_code":
        # province prefix 99 does not exist, so the code is in no area table
        known = set(districts)
        area = next(c for c in (f"99{area[2:]}", *(f"99{area[2:]}{j}" for j in range(10 ** 4)))
                    if c not in known)
    return [date, area, indicator, count]


def write_syndromic(out_dir: str | os.PathLike, districts: list[str], start: dt.date, days: int,
                    new_symptomatic: np.ndarray, rng: np.random.Generator,
                    dirty_rate: float = 0.002,
                    populations: np.ndarray | None = None) -> list[dict]:
    """Write ``out_dir/syndromic.csv``; returns the inserted defective rows."""
    districts = [str(d) for d in districts]
    new_symptomatic = np.asarray(new_symptomatic)
    if new_symptomatic.shape != (days, len(districts)):
        raise ValueError(f"new_symptomatic must have shape {(days, len(districts))}")
    if populations is None:
        populations = district_populations(len(districts), rng)
    elif len(populations) != len(districts):
        raise ValueError("one population per district is required")
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    mean = expected_background(populations, dates)
    size = np.broadcast_to(DISPERSION[None, None, :], mean.shape)
    counts = rng.negative_binomial(size, size / (size + mean)) + outbreak_visits(
        new_symptomatic, rng)

    n_rows = counts.size
    n_dirty = int(rng.binomial(n_rows, dirty_rate)) if n_rows else 0
    anchors = set(np.unique(rng.integers(0, max(n_rows, 1), n_dirty)).tolist())
    dirty: list[dict] = []
    path = Path(out_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(COLUMNS)
        line, i = 1, 0
        for d, date in enumerate(dates):
            for a, area in enumerate(districts):
                for k, indicator in enumerate(INDICATORS):
                    row = [date.isoformat(), area, indicator, int(counts[d, a, k])]
                    out.writerow(row)
                    line += 1
                    if i in anchors:
                        defect = DEFECTS[int(rng.integers(len(DEFECTS)))]
                        out.writerow(_dirty_row(defect, row, districts, float(rng.random())))
                        line += 1
                        dirty.append({"kind": "syndromic", "file": FILE, "line": line,
                                      "defect": defect})
                    i += 1
    return dirty
