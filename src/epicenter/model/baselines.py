"""Baseline forecasters that a useful model must beat.

- persistence: the last week's mean carries forward; its uncertainty is the empirical
  distribution of the same rule's past h-day-ahead errors on this series, symmetrised
  (as the European Forecast Hub baseline does), added to the point forecast and floored at 0;
  beyond the horizons with 5 past errors the last such spread grows like sqrt(h).
- log-linear growth: ordinary least squares of log(y + 1) on day over the last 14 days,
  extrapolated, with the normal prediction interval of the regression (residual variance plus
  parameter uncertainty, Student t quantiles) mapped back by exp(.) - 1.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, poisson
from scipy.stats import t as student_t

from epicenter.model.forecast import QuantileForecast, forecast_dates
from epicenter.model.incidence import Incidence
from epicenter.model.scoring import HUB_QUANTILES

LEVELS = np.array(HUB_QUANTILES)


def _persistence_point(y: np.ndarray, end: int, width: int) -> float:
    """Mean of the ``width`` days before index ``end`` (exclusive)."""
    return float(np.mean(y[max(0, end - width):end]))


def persistence_forecast(incidence: Incidence, horizon: int = 14,
                         width: int = 7) -> QuantileForecast:
    y = incidence.total
    n = len(y)
    point = _persistence_point(y, n, width)
    quantiles = np.zeros((horizon, len(LEVELS)))
    spread: tuple[int, np.ndarray] | None = None  # (horizon, error quantiles) last estimated
    for h in range(1, horizon + 1):
        # past errors of the same rule h days ahead, from origins that had a full week
        errors = np.array([y[o + h - 1] - _persistence_point(y, o, width)
                           for o in range(width, n - h + 1)])
        if len(errors) >= 5:
            spread = (h, np.quantile(np.concatenate([errors, -errors]), LEVELS))
            quantiles[h - 1] = point + spread[1]
        elif spread is not None:
            # too few origins this far ahead: widen the longest horizon's errors as a random
            # walk would (sd grows with the square root of the horizon)
            quantiles[h - 1] = point + spread[1] * np.sqrt(h / spread[0])
        else:  # too little history at all: Poisson noise around the point forecast
            quantiles[h - 1] = poisson.ppf(LEVELS, max(point, 1e-9))
    quantiles = np.maximum.accumulate(np.maximum(quantiles, 0.0), axis=1)
    return QuantileForecast("persistence", n, quantiles, dates=forecast_dates(incidence, horizon))


def loglinear_forecast(incidence: Incidence, horizon: int = 14,
                       fit_days: int = 14) -> QuantileForecast:
    y = incidence.total
    n = len(y)
    m = min(fit_days, n)
    x = np.arange(n - m, n, dtype=float)
    z = np.log(y[n - m:] + 1.0)
    x_new = np.arange(n, n + horizon, dtype=float)
    if m >= 3:
        design = np.column_stack([np.ones(m), x])
        coef, *_ = np.linalg.lstsq(design, z, rcond=None)
        resid = z - design @ coef
        dof = m - 2
        s2 = float(resid @ resid) / dof if dof > 0 else 0.0
        cov = np.linalg.pinv(design.T @ design)
        d_new = np.column_stack([np.ones(horizon), x_new])
        mean = d_new @ coef
        se = np.sqrt(s2 * (1.0 + np.einsum("ij,jk,ik->i", d_new, cov, d_new)))
        scale_q = student_t.ppf(LEVELS, dof) if dof > 0 else norm.ppf(LEVELS)
    else:  # one or two days: flat on the log scale with unit spread
        mean = np.full(horizon, z.mean() if m else 0.0)
        se = np.ones(horizon)
        scale_q = norm.ppf(LEVELS)
    quantiles = np.exp(mean[:, None] + se[:, None] * scale_q[None, :]) - 1.0
    quantiles = np.maximum.accumulate(np.maximum(quantiles, 0.0), axis=1)
    return QuantileForecast("loglinear", n, quantiles, dates=forecast_dates(incidence, horizon))
