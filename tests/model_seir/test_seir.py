"""Deterministic and stochastic SEIR against analytic results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from epicenter.model.age_structured import beta_for_r0, next_generation_matrix, spectral_radius
from epicenter.model.seir import (
    SEIRParams,
    growth_rate,
    initial_state,
    simulate,
    sir_final_size,
)
from epicenter.model.stochastic import simulate_stochastic

ONE = np.ones((1, 1))


@pytest.mark.parametrize("r0", [1.5, 2.0, 3.0])
def test_final_size_matches_sir_relation(r0):
    # an SEIR epidemic has the SIR final size; a tiny seed approaches the limit N -> inf
    p = SEIRParams(beta=r0 / 5.0, sigma=1 / 3, gamma=1 / 5)
    pop = np.array([1e7])
    run = simulate(p, pop, initial_state(pop, exposed=10), 600, steps_per_day=4)
    attack = run.states[-1, 5, 0] / pop[0]
    z = sir_final_size(r0)
    assert abs(z - (1 - np.exp(-r0 * z))) < 1e-12
    assert attack == pytest.approx(z, abs=2e-4)


def test_rk4_agrees_with_adaptive_solver():
    p = SEIRParams(beta=0.6, sigma=0.25, gamma=0.2, p_asym=0.3, rel_asym=0.5, kappa=0.1)
    pop = np.array([1e5])
    x0 = initial_state(pop, exposed=50)

    def rhs(t, y):
        s, e, i, a, q, r = y
        lam = p.beta * (i + p.rel_asym * a) / pop[0]
        return [-lam * s, lam * s - p.sigma * e, (1 - p.p_asym) * p.sigma * e - (p.gamma + p.kappa) * i,
                p.p_asym * p.sigma * e - p.gamma * a, p.kappa * i - p.gamma_q * q,
                p.gamma * (i + a) + p.gamma_q * q]

    ref = solve_ivp(rhs, (0, 120), x0[:, 0], t_eval=np.arange(121), rtol=1e-10, atol=1e-8)
    run = simulate(p, pop, x0, 120)
    assert np.max(np.abs(run.states[:, :, 0] - ref.y.T)) < 1e-3
    # conservation and flow bookkeeping: infections = loss of susceptibles
    assert np.allclose(run.states.sum(axis=(1, 2)), pop.sum())
    assert run.infections.sum() == pytest.approx(x0[0, 0] - run.states[-1, 0, 0], rel=1e-9)


@pytest.mark.parametrize("r0,sigma,gamma", [(2.5, 1 / 3, 1 / 5), (1.8, 1 / 5.2, 1 / 2.9)])
def test_ngm_r0_equals_growth_relation(r0, sigma, gamma):
    base = SEIRParams(beta=0.0, sigma=sigma, gamma=gamma)
    p = base.with_(beta=beta_for_r0(r0, base, ONE))
    assert spectral_radius(next_generation_matrix(p, ONE, np.ones(1))) == pytest.approx(r0)
    r = growth_rate(p)
    # SEIR characteristic equation (Wallinga & Lipsitch 2007)
    assert (1 + r / sigma) * (1 + r / gamma) == pytest.approx(r0, rel=1e-10)


def test_growth_rate_is_seen_in_the_simulation():
    base = SEIRParams(beta=0.0, sigma=1 / 3, gamma=1 / 5, p_asym=0.4, rel_asym=0.5, kappa=0.2)
    p = base.with_(beta=beta_for_r0(2.4, base, ONE))
    pop = np.array([1e12])  # no depletion of susceptibles over the window
    run = simulate(p, pop, initial_state(pop, exposed=10), 61)
    observed = np.log(run.infections[60, 0] / run.infections[40, 0]) / 20
    assert observed == pytest.approx(growth_rate(p), rel=2e-3)


def test_stochastic_mean_close_to_deterministic():
    p = SEIRParams(beta=0.5, sigma=1 / 3, gamma=1 / 5, p_asym=0.2, rel_asym=0.6, kappa=0.1)
    pop = np.array([2e5])
    x0 = initial_state(pop, exposed=2000)
    det = simulate(p, pop, x0, 150)
    sto = simulate_stochastic(p, pop, x0, 150, members=200, seed=3, steps_per_day=8)
    assert (sto.states.sum(axis=(2, 3)) == pop.sum()).all()  # exact conservation
    mean_curve = sto.infections[..., 0].mean(axis=0)
    det_curve = det.infections[:, 0]
    # tau-leap with 8 steps/day and large N: the mean curve tracks the ODE (the force of
    # infection is held over a step, so the stochastic epidemic runs slightly ahead)
    assert np.abs(mean_curve - det_curve).max() < 0.06 * det_curve.max()
    # the final size does not depend on timing: it matches closely
    assert sto.infections.sum(axis=(1, 2)).mean() == pytest.approx(det.infections.sum(), rel=0.01)


def test_stochastic_is_seeded():
    p = SEIRParams(beta=0.5)
    pop = np.array([1e4])
    x0 = initial_state(pop, exposed=5)
    a = simulate_stochastic(p, pop, x0, 30, members=5, seed=7)
    b = simulate_stochastic(p, pop, x0, 30, members=5, seed=7)
    c = simulate_stochastic(p, pop, x0, 30, members=5, seed=8)
    assert (a.states == b.states).all() and not (a.states == c.states).all()


def test_parameters_are_validated():
    with pytest.raises(ValueError):
        SEIRParams(beta=0.5, p_asym=1.5)
    with pytest.raises(ValueError):
        initial_state(np.array([10.0]), exposed=20)
