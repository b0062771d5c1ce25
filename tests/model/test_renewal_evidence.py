"""The series' own evidence on a renewal forecast's uncertainty, shrunk towards priors."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.incidence import from_counts
from epicenter.model.renewal_evidence import (
    damping_below_for,
    dispersion_for,
    drift_sd_for,
    log_rt_pairs,
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
