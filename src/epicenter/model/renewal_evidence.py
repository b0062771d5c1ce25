"""What a series' own past says about a renewal forecast's uncertainty.

The series' recent slope of log Rt moves R from the centre of the last Rt window to the
forecast origin (log_rt_slope). Four settings of the renewal forecast
(epicenter.model.forecast) describe how uncertain the future is: the NB overdispersion of daily counts, the sd per day of the random walk on log R,
and how fast R below 1, and R above 1, is pulled back towards 1. Each has a prior value learned by backtest
on other series; each is revised by the series' own past in proportion to how much evidence
that past holds, like the posterior mean under a conjugate prior:

    setting = (w * prior + k * estimate) / (w + k)

where w is the prior's weight and k the amount of evidence (days for the overdispersion,
independent weekly changes of Rt for the drift and the damping). A series that has only just
started gets the priors; a long steady one gets mostly its own estimates. Only data up to
the forecast origin are used.
"""

from __future__ import annotations

import numpy as np
from scipy.special import polygamma

from epicenter.model.incidence import Incidence
from epicenter.model.rt import estimate_rt, infectiousness

MAX_OVERDISPERSION = 5.0


def shrink(prior: float, prior_weight: float, estimate: float, evidence: float) -> float:
    """Weighted mean of a prior and an estimate; an infinite prior weight ignores the data."""
    if not np.isfinite(prior_weight) or evidence <= 0:
        return prior
    return (prior_weight * prior + evidence * estimate) / (prior_weight + evidence)


def overdispersion_evidence(incidence: Incidence, si: np.ndarray, window: int = 7,
                            lookback: int = 28) -> tuple[float, int]:
    """Method-of-moments NB overdispersion phi (var = mu + phi mu^2) of one-day-ahead
    predictions R_{t-1} Lambda_t over the last ``lookback`` days (0 means Poisson), and the
    number of days it rests on (0 when there are fewer than 5)."""
    n = len(incidence)
    if n < window + 3:
        return 0.0, 0
    est = estimate_rt(incidence, si, window=window)  # window k ends on day t_end[k] (1-based)
    lam = infectiousness(incidence.with_first_day_imported().total, si)
    observed = incidence.with_first_day_imported().local
    # the estimate from the window ending on day d predicts day d + 1 (0-based index d)
    days = est.t_end.astype(int)[:-1]
    ok = est.estimable[:-1]
    mu = est.mean[:-1][ok] * lam[days[ok]]
    y = observed[days[ok]]
    mu, y = mu[-lookback:], y[-lookback:]
    if len(mu) < 5 or (mu**2).sum() <= 0:
        return 0.0, 0
    phi = (((y - mu) ** 2 - mu).sum()) / (mu**2).sum()
    return float(np.clip(phi, 0.0, MAX_OVERDISPERSION)), len(mu)


def overdispersion(incidence: Incidence, si: np.ndarray, window: int = 7,
                   lookback: int = 28) -> float:
    """The series' own NB overdispersion estimate (see overdispersion_evidence)."""
    return overdispersion_evidence(incidence, si, window, lookback)[0]


def dispersion_for(incidence: Incidence, si: np.ndarray, prior: float, prior_weight: float,
                   window: int = 7) -> float:
    """Overdispersion for the forecast; the evidence is the number of days estimated on, so a
    short or quiet history does not on its own make the forecast narrow."""
    phi_hat, days = overdispersion_evidence(incidence, si, window=window)
    return shrink(prior, prior_weight, phi_hat, days)


def log_rt_pairs(incidence: Incidence, si: np.ndarray, window: int = 7,
                 lookback: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """(log Rt, log Rt ``window`` days later) for windows ending in the last ``lookback``
    days. The two windows of a pair do not overlap, so their estimates share no data."""
    before, after, _ = _log_rt_pairs_with_noise(incidence, si, window, lookback)
    return before, after


def _log_rt_pairs_with_noise(incidence: Incidence, si: np.ndarray, window: int,
                             lookback: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log_rt_pairs and, per pair, the sum of the two estimates' posterior variances of log
    R (trigamma of the Gamma shape): the part of a change that is estimation noise."""
    if len(incidence) < 2 * window + 1:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    est = estimate_rt(incidence, si, window=window)
    log_r = np.where(est.estimable, np.log(np.maximum(est.mean, 1e-12)), np.nan)
    noise = np.where(est.estimable, polygamma(1, np.where(est.estimable, est.shape, 1.0)), np.nan)
    log_r, noise = log_r[-(lookback + window):], noise[-(lookback + window):]
    before, after = log_r[:-window], log_r[window:]
    ok = np.isfinite(before) & np.isfinite(after)
    return before[ok], after[ok], (noise[:-window] + noise[window:])[ok]


def drift_sd_for(incidence: Incidence, si: np.ndarray, prior_sd: float, prior_weight: float,
                 window: int = 7) -> float:
    """Sd per day of the random walk on log R. The series' estimate is the mean square of
    the weekly changes of log Rt, per day, net of Rt's estimation noise (the two estimates'
    posterior variances of log R are subtracted, the result clipped at 0): noise is not
    drift, and once the growth damping follows the series (damping_above_for) a walk
    inflated by noise would make long forecasts far too wide. The variance, not the sd, is
    averaged with the prior."""
    before, after, noise = _log_rt_pairs_with_noise(incidence, si, window, 28)
    if len(before) == 0:
        return prior_sd
    var_past = max(float(np.mean((after - before) ** 2 - noise) / window), 0.0)
    return float(np.sqrt(shrink(prior_sd**2, prior_weight, var_past, len(before) / window)))


def damping_for(incidence: Incidence, si: np.ndarray, prior: float, prior_weight: float,
                window: int = 7, above: bool = False) -> float:
    """Daily damping of log R towards 0 (R = 1) on one side of R = 1: below it (``above``
    False) or above it. The series' estimate is the lag-``window`` autoregression of log Rt
    through 0 over the pairs that started on that side, taken to the power 1/window; a
    decline, or a growth, that has persisted says that it persists, one that turned says
    that it turns. The evidence is the number of such pairs / window (independent weeks)."""
    before, after = log_rt_pairs(incidence, si, window=window)
    side = before > 0 if above else before < 0
    if not side.any() or not np.isfinite(prior_weight):
        return prior
    rho = float((before[side] * after[side]).sum() / (before[side] ** 2).sum())
    estimate = float(np.clip(rho, 0.0, 1.0) ** (1.0 / window))
    return shrink(prior, prior_weight, estimate, side.sum() / window)


def damping_below_for(incidence: Incidence, si: np.ndarray, prior: float, prior_weight: float,
                      window: int = 7) -> float:
    """Daily damping of log R while R < 1 (see damping_for)."""
    return damping_for(incidence, si, prior, prior_weight, window, above=False)


def damping_above_for(incidence: Incidence, si: np.ndarray, prior: float, prior_weight: float,
                      window: int = 7) -> float:
    """Daily damping of log R while R > 1 (see damping_for): sustained growth is damped
    less, growth that has been turning back towards R = 1 keeps the prior's damping."""
    return damping_for(incidence, si, prior, prior_weight, window, above=True)


def log_rt_slope(incidence: Incidence, si: np.ndarray, window: int = 7,
                 prior_mean: float = 5.0, prior_sd: float = 5.0) -> float:
    """Slope per day of log Rt over the last ``window`` windows (ending on the last
    ``window`` days; least squares), 0 when the series is too short or a window is not
    estimable. The last window's estimate is R at its centre, (window - 1) / 2 days before
    the origin; this slope carries it to the origin (the forecast's nowcast of R)."""
    n = len(incidence)
    if n < 2 * window:
        return 0.0
    ends = np.arange(n - window + 1, n + 1)
    est = estimate_rt(incidence, si, t_start=ends - window + 1, t_end=ends,
                      prior_mean=prior_mean, prior_sd=prior_sd)
    if not est.estimable.all():
        return 0.0
    return float(np.polyfit(ends, np.log(est.mean), 1)[0])
