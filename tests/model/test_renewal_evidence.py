"""The series' own evidence on a renewal forecast's uncertainty, shrunk towards priors."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.incidence import from_counts
from epicenter.model.renewal_evidence import (
    damping_above_for,
    damping_below_for,
    dispersion_for,
    drift_sd_for,
    log_rt_pairs,
    log_rt_slope,
    shrink,
)
from epicenter.model.serial_interval import parametric_si

SI = parametric_si(4.0, 2.0, 120)


def test_shrink_is_the_evidence_weighted_mean_and_ignores_data_under_an_infinite_prior():
    assert shrink(0.3, 3.0, 0.1, 9.0) == pytest.approx((0.9 + 0.9) / 12)
    assert shrink(0.3, 3.0, 0.1, 0.0) == 0.3
    assert shrink(0.3, np.inf, 0.1, 100.0) == 0.3


def test_a_short_series_gets_the_priors(simulate):
    short = from_counts(simulate(np.full(9, 1.5), SI, 50, seed=1))
    assert log_rt_pairs(short, SI)[0].size == 0
    assert drift_sd_for(short, SI, 0.5, 1.0) == 0.5
    assert damping_below_for(short, SI, 0.8, 0.1) == 0.8
    assert dispersion_for(short, SI, 0.3, 3.0) == 0.3


def test_a_steady_poisson_series_narrows_drift_and_dispersion(simulate):
    steady = from_counts(simulate(np.full(70, 1.0), SI, 2000, seed=3))
    drift = drift_sd_for(steady, SI, 0.5, 1.0)
    # 3 independent weekly changes of a constant R (only estimation noise) against 1 prior
    assert drift < 0.5 / np.sqrt(4 / 1) + 0.02
    phi = dispersion_for(steady, SI, 0.3, 3.0)
    assert phi < 0.3 * 3 / (3 + 28) + 0.01


def test_a_persistent_decline_is_carried_on_but_a_recovering_one_is_not(simulate):
    decline = from_counts(simulate(np.full(60, 0.85), SI, 5000, seed=5))
    assert damping_below_for(decline, SI, 0.5, 0.1) > 0.95  # prior 0.5, data ~1
    # R falls to 0.5, then recovers to 1 within a week and stays: a pull back towards R = 1
    r = np.concatenate([np.full(20, 1.3), np.full(10, 0.5), np.linspace(0.5, 1.0, 7),
                        np.full(20, 1.0)])
    recovering = from_counts(simulate(r, SI, 3000, seed=6))
    assert damping_below_for(recovering, SI, 0.8, 0.1) < 0.92


def test_sustained_growth_is_damped_less_than_growth_that_turned(simulate):
    for seed in (5, 6, 7):
        sustained = from_counts(simulate(np.full(50, 1.3), SI, 5, seed=seed))
        turned = from_counts(simulate(np.r_[np.full(30, 1.6), np.full(25, 0.95)], SI, 5,
                                      seed=seed))
        d_sustained = damping_above_for(sustained, SI, 0.6, 1.0)
        d_turned = damping_above_for(turned, SI, 0.6, 1.0)
        # 4 weeks of evidence of persistent growth against a prior worth one week
        assert d_sustained > 0.85
        assert 0.6 < d_turned < d_sustained
    # no pair started above R = 1: the prior
    decline = from_counts(simulate(np.full(60, 0.85), SI, 5000, seed=5))
    assert damping_above_for(decline, SI, 0.6, 1.0) == 0.6


def test_drift_is_measured_net_of_estimation_noise(simulate):
    # a constant R: every weekly change of log Rt is estimation noise, so the walk's own
    # variance is ~0 and the drift is what the prior (weight 0.25 against 4 weeks) leaves
    for seed in (5, 6, 7):
        steady = from_counts(simulate(np.full(70, 1.0), SI, 100, seed=seed))  # ~30-45 a day
        before, after = log_rt_pairs(steady, SI)
        gross = np.sqrt((0.25 * 0.5**2 + 4 * np.mean((after - before) ** 2) / 7) / 4.25)
        net = drift_sd_for(steady, SI, 0.5, 0.25)
        assert net < 0.5 * np.sqrt(0.25 / 4.25) + 0.01
        assert net < gross - 0.003  # the noise was taken out
    # R switching between 1.5 and 0.7 every week: a real drift, several times larger
    volatile = from_counts(simulate(np.tile(np.r_[np.full(7, 1.5), np.full(7, 0.7)], 5), SI,
                                    200, seed=5))
    assert drift_sd_for(volatile, SI, 0.5, 0.25) > 0.17


def test_the_slope_of_log_rt_is_recovered(simulate):
    days = np.arange(60)
    falling = from_counts(simulate(2.0 * np.exp(-0.02 * days), SI, 300, seed=4))
    assert log_rt_slope(falling, SI) == pytest.approx(-0.02, abs=0.006)
    steady = from_counts(simulate(np.full(60, 1.0), SI, 2000, seed=4))
    assert abs(log_rt_slope(steady, SI)) < 0.006
    assert log_rt_slope(from_counts(np.full(13, 5.0)), SI) == 0.0  # too short: no slope
