"""IF-EAKF (Li et al.'s inference) recovers the parameters of a simulated epidemic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from epicenter.model import metapop as mp
from epicenter.model.calib_eakf import HIGH, LOW, NAMES, _adjust, _inflate, if_eakf
from epicenter.model.metapop_data import MetapopData


def test_eakf_update_matches_the_gaussian_posterior():
    rng = np.random.default_rng(0)
    h = rng.normal(10.0, 3.0, size=4000)
    x = 2.0 * h + rng.normal(0, 0.1, size=h.size)  # a state tied to the observed quantity
    y, obs_var = 16.0, max(4.0, 16.0**2 / 4)
    inc = _adjust(np.column_stack([x]), h, y)
    h_post = h + inc[:, 0] / 2.0
    var_post = 1 / (1 / h.var() + 1 / obs_var)
    assert abs(h_post.var() - var_post) < 0.02 * var_post
    # x is h up to noise, so its update carries the posterior mean of h (to the noise)
    assert abs(h_post.mean() - var_post * (h.mean() / h.var() + y / obs_var)) < 1e-3
    assert _adjust(np.ones((5, 1)), np.zeros(5), 3.0) is None  # no spread, no update


def test_if_eakf_recovers_simulated_parameters():
    rng = np.random.default_rng(5)
    n, days = 8, 21
    pop = rng.uniform(5e5, 3e6, n)
    flows = rng.uniform(0.002, 0.01, (n, n)) * pop[None, :]
    np.fill_diagonal(flows, 0.0)
    data = MetapopData([f"c{i}" for i in range(n)], pop, np.repeat(flows[None], days, axis=0),
                       dt.date(2020, 1, 1))
    truth = mp.MetapopParams(b=1.1, m=0.5, a=0.3, Z=3.5, D=3.5, theta=1.2)
    x0 = mp.seed_state(pop, 0, 600, 600, flows)
    run = mp.simulate_stochastic(truth, x0, days, data.mobility, members=1, seed=9)
    reports = mp.expected_reports(run.documented[0], mp.report_delay_pmf())
    data.cases = np.random.default_rng(3).poisson(reports).astype(float)
    result = if_eakf(data, seed_area="c0", days=days, members=100, iterations=5, seed=1)
    rows = {r["parameter"]: r for r in result.summary()}
    assert rows["Re"]["q0.025"] < truth.re < rows["Re"]["q0.975"]
    assert rows["a"]["q0.025"] < truth.a < rows["a"]["q0.975"]
    assert rows["Re"]["q0.975"] - rows["Re"]["q0.025"] < 2.5  # prior Re spans ~0.03-7.5
    assert abs(rows["Re"]["q0.5"] - truth.re) < 0.5
    assert (result.ensemble >= LOW).all() and (result.ensemble <= HIGH).all()
    assert result.history.shape == (5, len(NAMES))
    # each member's parameters averaged over the days of the last pass (Li et al.'s estimate)
    assert result.time_mean.shape == result.ensemble.shape
    assert (result.time_mean >= LOW).all() and (result.time_mean <= HIGH).all()
    averaged = {r["parameter"]: r for r in result.summary("time_mean")}
    assert averaged["Re"]["q0.025"] < truth.re < averaged["Re"]["q0.975"]
    with pytest.raises(ValueError):
        result.summary("median")


def test_inflation_keeps_the_ensemble_mean_and_scales_the_spread():
    rng = np.random.default_rng(2)
    values = rng.normal(3.0, 0.5, size=(200, 4))
    wider = _inflate(values, 1.1)
    np.testing.assert_allclose(wider.mean(axis=0), values.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(wider.std(axis=0), 1.1 * values.std(axis=0), rtol=1e-12)
