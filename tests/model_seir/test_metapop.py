"""Metapopulation model (Li et al. 2020): conservation, consistency and the reference data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from epicenter.model import metapop as mp
from epicenter.model.metapop_data import (
    MetapopData,
    TravelRestriction,
    load_li2020,
    od_from_rows,
    read_od_csv,
)


def _toy(days=5, seed=0):
    rng = np.random.default_rng(seed)
    pop = np.array([1e6, 3e5, 5e5, 2e5])
    od = rng.uniform(1e3, 2e4, size=(days, 4, 4))
    for d in range(days):
        np.fill_diagonal(od[d], 0.0)
    return MetapopData(["a", "b", "c", "d"], pop, od, dt.date(2020, 1, 1))


def test_mass_conservation_deterministic_per_compartment():
    data = _toy()
    p = mp.MetapopParams(b=0.9, m=0.5, a=0.2, theta=1.2)
    x0 = mp.seed_state(data.population, 0, 500, 500, data.mobility(0))
    run = mp.simulate(p, x0, 40, data.mobility)
    total = run.states.sum(axis=(1, 2))
    assert np.allclose(total, data.population.sum(), rtol=1e-12)
    # per compartment: national S falls exactly by the infections; national E balances
    s = run.states[:, mp.S].sum(axis=1)
    assert np.allclose(s[0] - s[1:], np.cumsum(run.infections.sum(axis=1)), rtol=1e-9)
    # documented infections never travel: Ir(t+1) - Ir(t) = documented - recoveries, per area
    ir = run.states[:, mp.IR]
    assert (ir >= -1e-9).all() and (run.states >= -1e-6).all()
    # per area N moves exactly as th * (inflow - outflow) of the (throttled) OD matrix
    n = run.states.sum(axis=1)
    assert not np.allclose(n[-1], n[0])  # travel does redistribute people


def test_area_population_follows_li_dN_equation():
    data = _toy(days=3)
    p = mp.MetapopParams(theta=1.0)
    x0 = mp.seed_state(data.population, 0, 0, 0)
    run = mp.simulate(p, x0, 3, data.mobility)
    n = run.states.sum(axis=1)
    for d in range(3):
        m = data.mobility(d)
        expected = n[d] + p.theta * (m.sum(axis=1) - m.sum(axis=0))
        assert np.allclose(n[d + 1], expected, rtol=1e-10)


def test_no_travel_equals_independent_areas():
    data = _toy()
    data.od[:] = 0.0
    p = mp.MetapopParams()
    data.population[1] = 1e12  # no depletion over the window
    x0 = mp.seed_state(data.population, 1, 10, 10)
    run = mp.simulate(p, x0, 41, data.mobility)
    assert run.infections[:, [0, 2, 3]].sum() == 0
    # single-area growth follows (1 + r Z)(1 + r D) = Re
    r = np.log(run.infections[40, 1] / run.infections[30, 1]) / 10
    assert (1 + r * p.Z) * (1 + r * p.D) == pytest.approx(p.re, rel=0.02)


def test_stochastic_conserves_and_tracks_mean_field():
    data = _toy()
    p = mp.MetapopParams(b=1.0, m=0.6, a=0.3)
    x0 = mp.seed_state(data.population, 0, 2000, 2000, data.mobility(0))
    det = mp.simulate(p, x0, 30, data.mobility)
    sto = mp.simulate_stochastic(p, x0, 30, data.mobility, members=60, seed=2)
    totals = sto.states.sum(axis=(2, 3))
    assert np.allclose(totals, x0.sum(), rtol=1e-12)
    assert (sto.states[:, :, [mp.E, mp.IR, mp.IU]] >= 0).all()
    ratio = sto.infections.sum(axis=(1, 2)).mean() / det.infections.sum()
    assert 0.9 < ratio < 1.1
    # areas reached only by travel get infections in the stochastic runs too
    assert sto.infections[:, :, 3].sum(axis=1).mean() > 0


def test_travel_restriction_scales_flows_touching_areas():
    data = _toy()
    r = TravelRestriction(start=2, factor=0.1, areas=(0,))
    restricted = data.with_restrictions([r])
    assert np.allclose(restricted.mobility(1), data.mobility(1))
    m = restricted.mobility(2)
    assert np.allclose(m[0, :], 0.1 * data.od[2][0, :]) and np.allclose(m[:, 0], 0.1 * data.od[2][:, 0])
    assert np.allclose(m[1:, 1:], data.od[2][1:, 1:])
    # beyond the data, the last week repeats
    assert np.allclose(data.mobility(data.od.shape[0]), data.od[0])


def test_li2020_loader_matches_published_facts():
    d = load_li2020()
    assert len(d.names) == 375 and d.od.shape == (14, 375, 375)
    assert d.cases.shape == (30, 375) and d.start == dt.date(2020, 1, 10)
    assert d.cases[:14].sum() == 801  # the paper's 801 documented cases Jan 10-23
    wuhan = d.index("Wuhan")
    assert wuhan == 169 and d.cases[:14, wuhan].sum() == 454
    daily = d.od.sum(axis=(1, 2))
    assert 13.0e6 < daily.min() and daily.max() < 16.0e6
    assert d.population.sum() == pytest.approx(1.376e9, rel=0.01)


def test_li2020_plausibility_check_of_the_reference_readme():
    # README: mean field, published parameters, seed E = Iu = 500 in Wuhan on Jan 10:
    # new infections Jan 10-23 Wuhan ~10,364, China ~13,219 (24 Euler substeps/day)
    d = load_li2020()
    w = d.index("Wuhan")
    x0 = mp.seed_state(d.population, w, 500, 500, d.mobility(0))
    run = mp.simulate(mp.MetapopParams(), x0, 14, d.mobility, steps_per_day=4)
    assert run.infections[:, w].sum() == pytest.approx(10_364, rel=0.02)
    assert run.infections.sum() == pytest.approx(13_219, rel=0.02)
    assert abs(run.states[-1].sum() - x0.sum()) < 1e-3
    assert mp.MetapopParams().re == pytest.approx(2.38, abs=0.01)


def test_od_flow_template(tmp_path):
    path = tmp_path / "od.csv"
    path.write_text("date,origin_code,destination_code,trips\n"
                    "2020-01-01,A,B,100\n2020-01-01,B,A,50\n2020-01-02,A,B,80\n")
    data = od_from_rows(read_od_csv(path), {"A": 1000.0, "B": 500.0})
    assert data.names == ["A", "B"] and data.od.shape == (2, 2, 2)
    assert data.od[0, 1, 0] == 100 and data.od[0, 0, 1] == 50 and data.od[1, 1, 0] == 80


def test_report_delay_pmf():
    pmf = mp.report_delay_pmf()
    assert pmf.sum() == pytest.approx(1.0)
    assert (np.arange(pmf.size) + 0.5) @ pmf == pytest.approx(9.0, abs=0.3)
    doc = np.zeros((20, 1))
    doc[0] = 100
    rep = mp.expected_reports(doc, pmf)
    assert rep[:, 0] == pytest.approx(100 * pmf[:20])


def test_od_flow_and_incidence_from_the_warehouse(warehouse, settings):
    import pyarrow as pa

    from epicenter.model.calibrate import cases_from_warehouse
    from epicenter.model.metapop_data import load_warehouse
    from epicenter.schema import TABLES

    day = dt.date(2020, 1, 1)
    flows = [(day, "A", "B", 100.0), (day, "B", "A", 60.0),
             (day + dt.timedelta(days=1), "A", "B", 90.0)]
    od = pa.table({
        "date": [f[0] for f in flows], "origin_code": [f[1] for f in flows],
        "destination_code": [f[2] for f in flows], "trips": [f[3] for f in flows],
        "source": ["od"] * 3, "batch_id": ["t"] * 3, "line_no": [2, 3, 4],
        "day": [f[0] for f in flows]}, schema=TABLES["od_flow"])
    area = pa.table({"area_code": ["A", "B"], "name": ["a", "b"], "level": ["city"] * 2,
                     "parent_code": [None, None], "population": [1000, 500],
                     "lon": [0.0, 1.0], "lat": [0.0, 1.0]}, schema=TABLES["area"])
    inc = pa.table({"date": [day, day + dt.timedelta(days=2)], "area_code": ["A", "A"],
                    "local": [3, 5], "imported": [1, None], "source": ["i"] * 2,
                    "batch_id": ["t"] * 2, "line_no": [2, 3], "day": [day, day]},
                   schema=TABLES["incidence"])
    with warehouse.batch("model_test", "x.csv", "h") as b:
        b.write("od_flow", od)
        b.write("area", area)
        b.write("incidence", inc)
        b.commit(rows_read=7, rows_loaded=7, rows_quarantined=0, rows_duplicate=0)
    data = load_warehouse(settings)
    assert data.names == ["A", "B"] and list(data.population) == [1000.0, 500.0]
    assert data.od[0, 1, 0] == 100 and data.od[0, 0, 1] == 60 and data.od[1, 1, 0] == 90
    series = cases_from_warehouse(settings, "A")
    assert list(series.cases) == [4.0, 0.0, 5.0]  # missing days are zero, not dropped
