"""Syndromic counts: template, weekly pattern, outbreak signal, dirty rows, determinism."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

from epicenter.synth.syndromic import (
    INDICATORS,
    district_populations,
    expected_background,
    write_syndromic,
)

START = dt.date(2020, 1, 6)  # a Monday
DISTRICTS = ["420102", "420103", "420104", "420105", "420106", "420107"]


def run(out, days=28, surge=None, seed=1, dirty_rate=0.0, populations=None):
    new = np.zeros((days, len(DISTRICTS)), dtype=np.int64) if surge is None else surge
    dirty = write_syndromic(out, DISTRICTS, START, days, new, np.random.default_rng(seed),
                            dirty_rate=dirty_rate, populations=populations)
    return dirty


def table(out, dirty=()) -> dict[tuple[str, str, str], int]:
    skip = {r["line"] for r in dirty}
    with open(out / "syndromic.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["date", "area_code", "indicator", "count"]
    clean = [r for n, r in enumerate(rows[1:], start=2) if n not in skip]
    result = {(d, a, i): int(c) for d, a, i, c in clean}
    assert len(result) == len(clean)  # one row per date, district and indicator
    return result


def series(t, area: str, indicator: str, days: int) -> np.ndarray:
    return np.array([t[(str(START + dt.timedelta(days=d)), area, indicator)]
                     for d in range(days)])


def test_template_and_completeness(tmp_path):
    assert run(tmp_path) == []
    t = table(tmp_path)
    assert len(t) == 28 * len(DISTRICTS) * 2
    assert {k[2] for k in t} == set(INDICATORS)
    assert all(v >= 0 for v in t.values())


def test_weekly_pattern_and_population_scaling(tmp_path):
    pops = np.array([2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 200_000])
    run(tmp_path, days=56, populations=pops)
    t = table(tmp_path)
    fever = np.array([series(t, a, "fever_clinic_visits", 56) for a in DISTRICTS])
    weekday = np.array([(START + dt.timedelta(days=d)).weekday() for d in range(56)])
    big = fever[:5]
    monday, sunday = big[:, weekday == 0].mean(), big[:, weekday == 6].mean()
    midweek = big[:, (weekday >= 1) & (weekday <= 4)].mean()
    assert monday > 1.1 * midweek and midweek > 1.15 * sunday
    # counts follow the district's population (10x smaller district, ~10x fewer visits)
    assert 6 < big.mean() / fever[5].mean() < 15
    # over-dispersed: variance beyond Poisson around the expected background
    mean = expected_background(pops, [START + dt.timedelta(days=d) for d in range(56)])
    resid = (big - mean[:, :5, 0].T) / np.sqrt(mean[:, :5, 0].T)
    assert resid.var() > 2.0


def test_outbreak_signal_rises_in_the_surging_district(tmp_path):
    days = 28
    surge = np.zeros((days, len(DISTRICTS)), dtype=np.int64)
    surge[14:17, 2] = 300  # 900 newly symptomatic cases in district 3 over three days
    surge[14:17, 4] = 1
    pops = np.full(len(DISTRICTS), 300_000)
    run(tmp_path, days=days, surge=surge, populations=pops)
    background = expected_background(pops, [START + dt.timedelta(days=d) for d in range(days)])
    t = table(tmp_path)
    fever = series(t, DISTRICTS[2], "fever_clinic_visits", days)
    before = fever[:14]
    # visits follow onset by 0-3 days: the surge shows from its first day, strongest after
    assert fever[14] > before.mean()
    assert fever[15:18].min() > before.mean() + 2.5 * before.std()
    # excess visits ~ the 55 % of 900 cases who go to a fever clinic (sd of the sum ~45)
    excess = fever[14:20].sum() - background[14:20, 2, 0].sum()
    assert abs(excess - 0.55 * 900) < 130
    # pneumonia shows later (4-9 days after onset), not on the surge days themselves
    pneu = series(t, DISTRICTS[2], "unexplained_pneumonia", days)
    assert pneu[19:25].sum() > pneu[:14].mean() * 6 + 15
    assert pneu[14:17].sum() < pneu[:14].mean() * 3 + 10
    quiet = series(t, DISTRICTS[0], "fever_clinic_visits", days)
    assert quiet[14:18].mean() < quiet[:14].mean() + 3 * quiet[:14].std()


def test_dirty_rows_listed_at_their_lines(tmp_path):
    dirty = run(tmp_path, days=20, dirty_rate=0.1, seed=5)
    assert len(dirty) > 10
    assert {r["defect"] for r in dirty} == {"duplicate", "bad_date", "bad_value", "unknown_code"}
    lines = (tmp_path / "syndromic.csv").read_text(encoding="utf-8").split("\n")
    for r in dirty:
        assert r["kind"] == "syndromic" and r["file"] == "syndromic.csv"
        date, area, indicator, count = lines[r["line"] - 1].split(",")
        if r["defect"] == "duplicate":
            assert lines[r["line"] - 1] in lines[1:r["line"] - 1]
        elif r["defect"] == "bad_date":
            with pytest.raises(ValueError):
                dt.date.fromisoformat(date)
        elif r["defect"] == "bad_value":
            assert int(count) < 0 or int(count) > 1_000_000
        else:
            assert area not in DISTRICTS and indicator in INDICATORS
    # the rest is the complete clean table
    assert len(table(tmp_path, dirty)) == 20 * len(DISTRICTS) * 2


def test_determinism_and_derived_populations(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        run(tmp_path / name, seed=seed, dirty_rate=0.05)
    a, b, c = ((tmp_path / n / "syndromic.csv").read_bytes() for n in "abc")
    assert a == b and a != c
    p1 = district_populations(6, np.random.default_rng(2))
    assert np.array_equal(p1, district_populations(6, np.random.default_rng(2)))
    assert (p1 > 10_000).all() and len(set(p1.tolist())) == 6


def test_rejects_wrong_shapes(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        write_syndromic(tmp_path, DISTRICTS, START, 5, np.zeros((4, 6)), np.random.default_rng(1))
    with pytest.raises(ValueError, match="population"):
        write_syndromic(tmp_path, DISTRICTS, START, 5, np.zeros((5, 6)),
                        np.random.default_rng(1), populations=[1, 2])
