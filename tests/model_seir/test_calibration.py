"""Calibration recovers known parameters from simulated case counts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from epicenter.model.age_structured import beta_for_r0
from epicenter.model.calib_mcmc import Prior, adaptive_metropolis, negbin_logpmf
from epicenter.model.calibrate import CaseSeries, calibrate_seir, read_cases_csv
from epicenter.model.seir import SEIRParams, initial_state, simulate


def test_metropolis_samples_a_known_gaussian():
    post = adaptive_metropolis(lambda v: -0.5 * ((v["x"] - 1.0) / 0.2) ** 2,
                               [Prior("x", -5.0, 5.0)], iterations=6000, seed=1)
    assert post.column("x").mean() == pytest.approx(1.0, abs=0.03)
    assert post.column("x").std() == pytest.approx(0.2, rel=0.1)
    assert 0.15 < post.acceptance < 0.6


def test_negbin_matches_scipy():
    from scipy.stats import nbinom

    y, mu, k = np.array([0, 3, 10]), np.array([1.0, 4.0, 8.0]), 2.5
    ref = nbinom.logpmf(y, k, k / (k + mu)).sum()
    assert negbin_logpmf(y, mu, k) == pytest.approx(ref, rel=1e-12)


def test_recovers_r0_within_credible_interval(r0_true=2.2, seed=12):
    base = SEIRParams(beta=0.0, sigma=1 / 3, gamma=1 / 5, rho=0.4)
    p = base.with_(beta=beta_for_r0(r0_true, base, np.ones((1, 1))))
    pop = np.array([5e5])
    run = simulate(p, pop, initial_state(pop, exposed=30), 45)
    rng = np.random.default_rng(seed)
    k = 20.0
    mu = run.reported[:, 0]
    y = rng.negative_binomial(k, k / (k + mu))
    dates = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(45)]
    fit = calibrate_seir(CaseSeries(dates, y), 5e5, base, rho=0.4, iterations=1500, mcmc_seed=seed)
    r0 = fit.posterior.column("r0")
    lo, hi = np.quantile(r0, [0.025, 0.975])
    assert lo < r0_true < hi
    assert hi - lo < 0.5  # informative, not just the prior
    beta = [beta_for_r0(v, base, np.ones((1, 1))) for v in (lo, hi)]
    assert beta[0] < p.beta < beta[1]


def test_read_cases_csv(tmp_path):
    f = tmp_path / "inc.csv"
    f.write_text("date,local,imported\n2020-01-02,3,1\n2020-01-01,1,0\n")
    s = read_cases_csv(f)
    assert s.dates[0] == dt.date(2020, 1, 1) and list(s.cases) == [1.0, 4.0]
    g = tmp_path / "gap.csv"
    g.write_text("date,cases\n2020-01-01,1\n2020-01-03,2\n")
    with pytest.raises(ValueError):
        read_cases_csv(g)
