"""Forecasts: 23 monotone hub quantiles, and the renewal model recovers known growth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from epicenter.model.baselines import loglinear_forecast, persistence_forecast
from epicenter.model.count_quantiles import sample_quantiles
from epicenter.model.forecast import MAX_DAILY_MEAN, renewal_forecast, simulate_renewal
from epicenter.model.incidence import from_counts, read_incidence
from epicenter.model.renewal_evidence import overdispersion
from epicenter.model.scoring import HUB_QUANTILES
from epicenter.model.serial_interval import parametric_si, read_si_distr


@pytest.fixture
def flu(epiestim_dir):
    return (read_incidence(epiestim_dir / "Flu2009_incidence.csv"),
            read_si_distr(epiestim_dir / "Flu2009_si_distr.csv"))


def test_every_model_gives_23_monotone_non_negative_quantiles(flu):
    inc, si = flu
    for fc in (renewal_forecast(inc.head(15), si, 14), persistence_forecast(inc.head(15), 14),
               loglinear_forecast(inc.head(15), 14), renewal_forecast(inc, si, 14)):
        assert fc.quantiles.shape == (14, 23)
        assert fc.levels == HUB_QUANTILES
        assert (np.diff(fc.quantiles, axis=1) >= 0).all()
        assert (fc.quantiles >= 0).all()
        table = fc.to_table()
        assert table.num_rows == 14 and table.column("date")[0].as_py() == inc.date_of(fc.origin)


def test_renewal_quantiles_are_mid_distribution_quantiles_of_the_simulated_paths(flu):
    inc, si = flu
    samples, _ = simulate_renewal(inc.head(12), si, 7, seed=4)
    fc = renewal_forecast(inc.head(12), si, 7, seed=4)
    np.testing.assert_allclose(fc.quantiles, sample_quantiles(samples, convention="mid"))
    integer = renewal_forecast(inc.head(12), si, 7, seed=4, convention="integer").quantiles
    np.testing.assert_allclose(integer, np.quantile(samples, HUB_QUANTILES, axis=0).T)
    assert not np.allclose(fc.quantiles, integer)


def test_renewal_forecast_is_reproducible_with_a_seed(flu):
    inc, si = flu
    a = renewal_forecast(inc.head(20), si, 7, seed=5).quantiles
    b = renewal_forecast(inc.head(20), si, 7, seed=5).quantiles
    np.testing.assert_array_equal(a, b)


def test_renewal_forecast_recovers_known_growth(simulate):
    si = parametric_si(5.0, 2.0, 120)
    r_true = 1.3
    cases = simulate(np.full(80, r_true), si, 100, seed=11)  # thousands a day: R is sharp
    fc = renewal_forecast(from_counts(cases), si, 21, drift_sd=0.0, damping=1.0, n_samples=4000)
    # Euler-Lotka: the growth rate r solves 1 = R sum_k w_k exp(-r k)
    k = np.arange(len(si))
    growth = brentq(lambda r: r_true * (si * np.exp(-r * k)).sum() - 1.0, 1e-6, 2.0)
    fitted = np.polyfit(np.arange(7, 21), np.log(fc.median[7:]), 1)[0]
    assert fitted == pytest.approx(growth, rel=0.15)
    # and the truth continued lies inside the 90% interval
    future = simulate(np.full(101, r_true), si, 100, seed=11)[80:]
    levels = list(fc.levels)
    inside = (fc.quantiles[:, levels.index(0.05)] <= future) & (future <= fc.quantiles[:, levels.index(0.95)])
    assert inside.mean() >= 0.8


def test_damping_pulls_r_towards_one(simulate):
    si = parametric_si(5.0, 2.0, 120)
    inc = from_counts(simulate(np.full(50, 1.5), si, 30, seed=2))
    free = renewal_forecast(inc, si, 14, drift_sd=0.0, damping=1.0)
    damped = renewal_forecast(inc, si, 14, drift_sd=0.0, damping=0.5)
    assert damped.median[-1] < free.median[-1]


def test_overdispersion_is_near_zero_for_poisson_and_large_for_noisy_series(simulate):
    si = parametric_si(5.0, 2.0, 120)
    cases = simulate(np.full(60, 1.0), si, 500, seed=4)
    assert overdispersion(from_counts(cases), si) < 0.02
    rng = np.random.default_rng(1)
    noisy = cases * rng.gamma(2.0, 0.5, len(cases))  # multiplicative noise, cv 0.7
    assert overdispersion(from_counts(np.round(noisy)), si) > 0.2


def test_loglinear_recovers_exact_exponential_growth():
    days = np.arange(30)
    y = 50 * np.exp(0.1 * days) - 1
    fc = loglinear_forecast(from_counts(y), 7)
    np.testing.assert_allclose(fc.median, 50 * np.exp(0.1 * np.arange(30, 37)) - 1, rtol=1e-8)


def test_persistence_carries_the_last_week_mean():
    y = np.array([5.0] * 20 + [10, 12, 14, 16, 18, 20, 22])
    fc = persistence_forecast(from_counts(y), 3)
    assert fc.median[0] == pytest.approx(16.0, abs=3)
    lo, hi = fc.quantiles[:, 0], fc.quantiles[:, -1]
    assert (lo <= 16).all() and (hi >= 16).all()


def test_leading_days_without_cases_change_nothing(simulate):
    si = parametric_si(5.0, 2.0, 120)
    cases = simulate(np.full(30, 1.2), si, 20, seed=8)
    plain = renewal_forecast(from_counts(cases), si, 10, n_samples=500)
    padded = renewal_forecast(from_counts(np.concatenate([np.zeros(9), cases])), si, 10,
                              n_samples=500)
    np.testing.assert_array_equal(plain.quantiles, padded.quantiles)


def test_a_series_that_has_just_started_is_forecast_from_the_prior_not_as_zero():
    si = parametric_si(5.0, 2.0, 120)
    fc = renewal_forecast(from_counts([0, 0, 0, 0, 40]), si, 14, n_samples=2000)
    assert fc.extra["r_mean"] != fc.extra["r_mean"]  # NaN: no window to estimate R from
    assert fc.median[-1] > 0
    assert fc.quantiles[-1, -1] > 40  # the prior R (mean 5) lets it grow


def test_decline_is_damped_less_than_growth(simulate):
    si = parametric_si(5.0, 2.0, 120)
    inc = from_counts(simulate(np.concatenate([np.full(10, 2.0), np.full(10, 0.7)]), si, 30,
                               seed=2))
    kept = renewal_forecast(inc, si, 14, drift_sd=0.0, damping=0.5, damping_below=1.0,
                            damping_prior_weight=np.inf)
    pulled = renewal_forecast(inc, si, 14, drift_sd=0.0, damping=0.5, damping_below=0.5,
                              damping_prior_weight=np.inf)
    assert kept.median[-1] < pulled.median[-1]
    assert kept.median[-1] < kept.median[0]  # R stays below 1: the decline goes on


def _continued_mean(cases: np.ndarray, r: float, si: np.ndarray, horizon: int) -> float:
    """Expected count ``horizon`` days on if R stays at ``r`` (renewal equation, no noise)."""
    x = list(cases)
    w = np.zeros(len(x) + horizon)
    w[1 : len(si)] = si[1 : len(w)]
    for t in range(len(cases), len(cases) + horizon):
        x.append(r * sum(x[t - k] * w[k] for k in range(1, t + 1)))
    return x[-1]


def test_sustained_growth_is_carried_on_not_damped_to_r_one(simulate):
    # R = 1.3 for 64 days: the prior damping alone (the old forecast) puts the 14-day mean at
    # less than half of what R = 1.3 continued gives; the series' evidence of persistent
    # growth brings it near the truth
    si = parametric_si(4.0, 2.0, 120)
    for seed in (5, 6, 7):
        cases = simulate(np.full(50, 1.3), si, 20, seed=seed)
        expected = _continued_mean(cases, 1.3, si, 14)
        new, info = simulate_renewal(from_counts(cases), si, 14)
        old, _ = simulate_renewal(from_counts(cases), si, 14, growth_prior_weight=np.inf)
        assert info["damping"] > 0.85
        assert 0.75 < new[:, -1].mean() / expected < 1.25
        assert old[:, -1].mean() / expected < 0.5


def test_a_weakly_damped_walk_stays_finite():
    si = parametric_si(4.0, 2.0, 120)
    inc = from_counts(np.array([5.0, 8, 12, 20, 30, 45, 70, 100, 150, 220]))
    paths, _ = simulate_renewal(inc, si, 30, damping=1.0, drift_sd=1.5, drift_prior_weight=np.inf,
                                growth_prior_weight=np.inf)
    # without the caps on R and on the daily mean the Poisson draw fails (lam too large)
    assert np.isfinite(paths).all()
    assert paths.max() < 1.01 * MAX_DAILY_MEAN


def test_the_nowcast_moves_r_from_the_window_centre_to_the_origin(simulate):
    # R falls steadily: the last window's estimate is R three days ago, too high; the
    # nowcast lowers R at the origin by about slope * 3 days
    si = parametric_si(4.0, 2.0, 120)
    inc = from_counts(simulate(2.0 * np.exp(-0.03 * np.arange(45)), si, 300, seed=4))
    kept = simulate_renewal(inc, si, 7, drift_sd=0.0)[0].mean(axis=0)
    lagged = simulate_renewal(inc, si, 7, drift_sd=0.0, nowcast=False)[0].mean(axis=0)
    assert kept[0] / lagged[0] == pytest.approx(np.exp(-0.03 * 3), rel=0.06)
