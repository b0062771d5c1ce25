"""Shared helpers for the modelling tests: reference data paths and a renewal simulator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from epicenter.schema import TABLES

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
EPIESTIM = REFERENCE / "epiestim"
SCORING = REFERENCE / "forecast_scoring"
LI2020 = REFERENCE / "li2020_china_metapop"


def simulate_renewal(r: np.ndarray, si: np.ndarray, seed_cases: float, seed: int = 7) -> np.ndarray:
    """Poisson renewal epidemic: day 0 has ``seed_cases``; later days ~ Poisson(R_t Lambda_t)."""
    rng = np.random.default_rng(seed)
    cases = np.zeros(len(r))
    cases[0] = seed_cases
    w = np.zeros(len(r))
    w[: min(len(si), len(r))] = si[: len(r)]
    for t in range(1, len(r)):
        lam = cases[:t] @ w[1 : t + 1][::-1]
        cases[t] = rng.poisson(r[t] * lam)
    return cases


@pytest.fixture(scope="session")
def simulate():
    return simulate_renewal


@pytest.fixture(scope="session")
def epiestim_dir() -> Path:
    return EPIESTIM


@pytest.fixture(scope="session")
def scoring_dir() -> Path:
    return SCORING


@pytest.fixture(scope="session")
def li2020_dir() -> Path:
    return LI2020


def _case_reports(rows: list[tuple[str, str, dt.date, dt.date | None]]) -> pa.Table:
    n = len(rows)
    return pa.table({
        "person_key": [r[0] for r in rows], "status": ["confirmed"] * n,
        "report_time": [dt.datetime.combine(r[2], dt.time(10)) for r in rows],
        "onset_date": [r[3] for r in rows], "isolation_time": [None] * n,
        "area_code": [r[1] for r in rows], "source": ["case_report"] * n,
        "batch_id": ["t"] * n, "line_no": list(range(2, n + 2)), "day": [r[2] for r in rows],
    }, schema=TABLES["case_reports"])


@pytest.fixture
def filled(warehouse):
    """A city C1 > district D1 > street S1, another city C2, and a growing line list."""
    areas = pa.table({"area_code": ["C1", "D1", "S1", "C2"], "name": ["c", "d", "s", "o"],
                      "level": ["city", "district", "street", "city"],
                      "parent_code": [None, "C1", "D1", None], "population": [1, 1, 1, 1],
                      "lon": [0.0] * 4, "lat": [0.0] * 4}, schema=TABLES["area"])
    start = dt.date(2020, 1, 1)
    rng = np.random.default_rng(0)
    rows, k = [], 0
    for day in range(40):
        for _ in range(int(5 * 1.05**day)):
            k += 1
            onset = start + dt.timedelta(days=day)
            report = onset + dt.timedelta(days=int(rng.integers(0, 5)))
            if report > start + dt.timedelta(days=39):
                continue  # not reported yet on the last day: right truncation
            rows.append((f"p{k}", ("D1", "S1", "C1")[k % 3], report, onset))
    rows.append(("other", "C2", start + dt.timedelta(days=3), None))
    with warehouse.batch("test") as b:
        b.write("area", areas)
        b.write("case_reports", _case_reports(rows))
        b.commit()
    return warehouse, rows
