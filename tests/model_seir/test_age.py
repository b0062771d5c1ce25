"""Age-structured model and the vendored contact matrices."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.age_structured import (
    LayerSchedule,
    Measure,
    beta_for_r0,
    r0,
    spectral_radius,
)
from epicenter.model.contacts import LAYERS, load_contacts, locations, sources
from epicenter.model.seir import SEIRParams, growth_rate, initial_state, simulate


def test_vendored_locations_and_shapes():
    assert {"China", "China_Hubei"} <= set(locations())
    assert {"prem_2017", "prem_2021", "mistry_2021"} <= set(sources("China"))
    for src, groups in (("prem_2017", 16), ("prem_2021", 16), ("mistry_2021", 85)):
        d = load_contacts("China", src)
        assert d.total.shape == (groups, groups) and d.population.shape == (groups,)
        assert len(d.labels) == groups
        assert all((d.layers[k] >= 0).all() for k in LAYERS)
        assert d.population.sum() == pytest.approx(1_420_908_880)
        # a person meets between 10 and 20 people a day on average in these surveys
        mean = (d.total.sum(axis=1) * d.population).sum() / d.population.sum()
        assert 8 < mean < 20


def test_reciprocity():
    # Mistry matrices are built reciprocal: C_ij N_i == C_ji N_j (per layer)
    for loc in ("China", "China_Hubei"):
        d = load_contacts(loc, "mistry_2021")
        for layer in LAYERS:
            assert d.reciprocity_error(layer) < 1e-6
    # Prem projections are not; making them reciprocal is exact and keeps total contacts
    prem = load_contacts("China", "prem_2017")
    assert 0.05 < prem.reciprocity_error() < 0.3
    fixed = prem.reciprocal()
    assert fixed.reciprocity_error() < 1e-12
    before = (prem.total.sum(axis=1) * prem.population).sum()
    assert (fixed.total.sum(axis=1) * fixed.population).sum() == pytest.approx(before)


def test_aggregation_preserves_total_contacts_and_reciprocity():
    fine = load_contacts("China_Hubei", "mistry_2021")
    coarse = load_contacts("China_Hubei", "mistry_2021", band_width=5)
    assert coarse.total.shape == (17, 17) and coarse.labels[-1] == "80+"
    assert coarse.population.sum() == pytest.approx(fine.population.sum())
    total = lambda d: (d.total * d.population[:, None]).sum()  # noqa: E731
    assert total(coarse) == pytest.approx(total(fine))
    assert coarse.reciprocity_error() < 1e-6  # the CSVs carry ~1e-7 rounding


def test_single_group_reduces_to_plain_seir():
    base = SEIRParams(beta=0.0, sigma=1 / 3, gamma=1 / 5, p_asym=0.3, rel_asym=0.5)
    c = np.array([[12.0]])
    p = base.with_(beta=beta_for_r0(2.5, base, c))
    pop = np.array([1e6])
    x0 = initial_state(pop, exposed=10)
    aged = simulate(p, pop, x0, 150, schedule=LayerSchedule(_one_group(c), []))
    plain = simulate(p.with_(beta=p.beta * 12.0), pop, x0, 150)
    assert np.allclose(aged.states, plain.states, rtol=1e-10, atol=1e-6)


def _one_group(c):
    from epicenter.model.contacts import ContactData

    zero = np.zeros_like(c)
    return ContactData("one", "test", ("all",), np.array([1e6]),
                       {"home": c, "school": zero, "work": zero, "community": zero})


def test_identical_groups_behave_like_one_population():
    # two groups with uniform mixing are one population split in two
    base = SEIRParams(beta=0.0)
    c = np.array([[4.0, 6.0], [4.0, 6.0]])  # contacts proportional to the groups' sizes 0.4/0.6
    pop = np.array([4e5, 6e5])
    p = base.with_(beta=beta_for_r0(2.0, base, c))
    assert r0(p, c, pop) == pytest.approx(2.0)
    two = simulate(p, pop, initial_state(pop, exposed=10), 200, schedule=_Fixed(c))
    one = simulate(base.with_(beta=beta_for_r0(2.0, base, np.ones((1, 1)))), np.array([1e6]),
                   initial_state(np.array([1e6]), exposed=10), 200)
    assert np.allclose(two.states.sum(axis=2), one.states[:, :, 0], rtol=1e-8, atol=1e-4)


class _Fixed:
    def __init__(self, m):
        self.m = m

    def contacts(self, day):
        return self.m

    def kappa(self, day, default):
        return default


def test_r0_from_target_and_growth_on_real_matrices():
    d = load_contacts("China", "prem_2017")
    base = SEIRParams(beta=0.0, sigma=1 / 3, gamma=1 / 5)
    p = base.with_(beta=beta_for_r0(2.5, base, d.total))
    assert r0(p, d.total, d.population) == pytest.approx(2.5)
    r = growth_rate(p, d.total, d.population)
    assert (1 + r / p.sigma) * (1 + r / p.gamma) == pytest.approx(2.5, rel=1e-8)


def test_layer_measures_act_from_their_day():
    d = load_contacts("China", "prem_2017")
    sched = LayerSchedule(d, [Measure(start=10, school=0.0, work=0.6),
                              Measure(start=20, isolation_days=2.0)])
    assert np.allclose(sched.contacts(9), d.total)
    assert np.allclose(sched.contacts(10), d.combine(school=0.0, work=0.6))
    assert sched.kappa(15, 0.0) == 0.0 and sched.kappa(20, 0.0) == 0.5
    p = SEIRParams(beta=beta_for_r0(2.5, SEIRParams(beta=0.0), d.total))
    assert sched.reproduction_number(p, 0) == pytest.approx(2.5)
    assert sched.reproduction_number(p, 10) < sched.reproduction_number(p, 0)
    assert sched.reproduction_number(p, 20) < sched.reproduction_number(p, 10)
    assert spectral_radius(sched.contacts(10)) < spectral_radius(d.total)
    with pytest.raises(ValueError):
        Measure(start=0, work=-1)
