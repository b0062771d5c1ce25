"""Coverage diagnostics: discreteness of counts against real miscalibration."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.backtest import default_models, rolling_origin
from epicenter.model.calibration import (
    calibration_backtest,
    forecast_calibration,
    summarise_calibration,
)
from epicenter.model.incidence import from_counts
from epicenter.model.serial_interval import parametric_si


def _coverage_of(forecast_draws, outcome_draws, n: int = 3000,
                 convention: str = "mid") -> dict[str, float]:
    """Mean of forecast_calibration over n forecasts, each scored against one outcome."""
    rng = np.random.default_rng(5)
    rows = [forecast_calibration(forecast_draws(rng), outcome_draws(rng), rng,
                                 convention=convention) for _ in range(n)]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


@pytest.mark.parametrize(("convention", "held"), [
    # integer quantiles: q0.25 = 0, q0.75 = 2, P(0 <= Y <= 2) = 5 / (2e) = 0.92
    ("integer", 5 / (2 * np.e)),
    # mid-distribution quantiles: [e/4 - 1/2, e - 1] = [0.18, 1.72] holds Y = 1 only: 1/e
    ("mid", 1 / np.e)])
def test_a_calibrated_forecast_of_mean_one_reports_what_its_interval_holds(convention, held):
    m = _coverage_of(lambda rng: rng.poisson(1.0, 4000), lambda rng: rng.poisson(1.0),
                     convention=convention)
    assert m["calibrated50"] == pytest.approx(held, abs=0.02)
    assert m["cov50"] == pytest.approx(m["calibrated50"], abs=0.02)
    # the randomized PIT does not depend on how the quantiles are taken
    assert m["pit50"] == pytest.approx(0.5, abs=0.03)
    assert m["pit90"] == pytest.approx(0.9, abs=0.02)


def test_outcomes_wider_than_the_forecast_show_in_the_pit():
    # forecast Poisson(20); outcomes negative binomial with the same mean and sd 10
    m = _coverage_of(lambda rng: rng.poisson(20.0, 4000),
                     lambda rng: rng.poisson(rng.gamma(5.0, 4.0)))
    assert m["calibrated50"] == pytest.approx(0.5, abs=0.1)
    assert m["pit50"] < 0.4 and m["pit90"] < 0.75


def test_reported_coverage_is_the_backtests(simulate):
    si = parametric_si(4.7, 2.9, 60)
    cases = simulate(np.r_[np.full(20, 1.6), np.full(20, 0.8)], si, 5, seed=3)
    series = {"a": from_counts(cases)}
    calib = calibration_backtest(series, si, [7, 14], n_samples=500)
    scores = rolling_origin(series, {"renewal": default_models(si, n_samples=500)["renewal"]},
                            [7, 14])
    assert len(calib) == len(scores)
    np.testing.assert_array_equal(calib["cov50"].to_numpy(), scores["cov50"].to_numpy())
    np.testing.assert_array_equal(calib["cov90"].to_numpy(), scores["cov90"].to_numpy())
    summary = summarise_calibration(calib, by_mean=True)
    assert summary["n"].sum() == len(calib)
    assert set(summary["horizon"]) == {7, 14}
