"""Timing of Rt estimation, renewal forecasts and WIS scoring on synthetic series.

Run: .venv/bin/python bench/bench_rt.py   (prints one line per measurement)
"""

from __future__ import annotations

import platform
import time

import numpy as np

from epicenter.model.forecast import renewal_forecast
from epicenter.model.incidence import from_counts
from epicenter.model.rt import estimate_rt
from epicenter.model.scoring import HUB_QUANTILES, interval_score_parts
from epicenter.model.serial_interval import parametric_si


def timed(label: str, func, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<55} {best * 1000:9.1f} ms")


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    rng = np.random.default_rng(0)
    for days in (365, 3650):
        cases = rng.poisson(100 + 50 * np.sin(np.arange(days) / 30), days)
        inc = from_counts(cases)
        si = parametric_si(4.7, 2.9, days)
        timed(f"rt: {days} days, weekly windows", lambda inc=inc, si=si: estimate_rt(inc, si))
        timed(f"renewal forecast: {days} days history, 14 d, 2000 paths",
              lambda inc=inc, days=days: renewal_forecast(inc, parametric_si(4.7, 2.9, days + 14), 14))
    y = rng.normal(100, 20, 100_000)
    q = np.sort(rng.normal(100, 20, (100_000, len(HUB_QUANTILES))), axis=1)
    timed("WIS: 100,000 forecasts x 23 quantiles", lambda: interval_score_parts(y, q, HUB_QUANTILES))


if __name__ == "__main__":
    main()
