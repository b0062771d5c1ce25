"""Renewal-equation forecasts of daily cases with hub quantiles.

The model continues the Cori et al. renewal process beyond the last observed day:

    R_T       ~ posterior Gamma of the last Rt window (epicenter.model.rt)
    log R_t+1 = damping * log R_t + N(0, drift_sd^2)   (damped random walk on log R)
    y_t       ~ NegBin(mean R_t * Lambda_t, overdispersion phi)

where Lambda_t is the infectiousness of observed and already simulated cases. phi is
estimated per series by the method of moments from one-day-ahead in-sample predictions (so
noisy reporting widens the intervals), but not below a floor. Paths are simulated by Monte
Carlo with a fixed seed; the forecast is the 23 hub quantiles of the simulated counts on
each day. Future imported cases are taken as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from epicenter.model.incidence import Incidence
from epicenter.model.rt import estimate_rt, infectiousness
from epicenter.model.scoring import HUB_QUANTILES
from epicenter.model.serial_interval import fit_to_length

# Chosen by backtest (lowest mean WIS) on the Li et al. cities ranked 21-60 by cases, which
# the documented evaluation on the top 20 does not use (docs/forecast.md).
DEFAULT_DRIFT_SD = 0.2  # sd per day of the random walk on log R
DEFAULT_DAMPING = 0.5  # log R_{t+1} = damping * log R_t + noise
DEFAULT_PHI_FLOOR = 0.3  # least NB overdispersion (var = mu + phi mu^2)
MAX_OVERDISPERSION = 5.0


@dataclass(frozen=True)
class QuantileForecast:
    """Quantiles of daily counts for days origin+1 .. origin+horizon (rows) by level."""

    model: str
    origin: int  # number of observed days the forecast used
    quantiles: np.ndarray  # shape (horizon, len(levels)), each row non-decreasing
    levels: tuple[float, ...] = HUB_QUANTILES
    dates: list | None = None
    extra: dict = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return self.quantiles.shape[0]

    @property
    def median(self) -> np.ndarray:
        return self.quantiles[:, list(self.levels).index(0.5)]

    def to_table(self) -> pa.Table:
        cols: dict[str, pa.Array] = {"horizon": pa.array(np.arange(1, self.horizon + 1))}
        if self.dates is not None:
            cols["date"] = pa.array(self.dates)
        cols["model"] = pa.array([self.model] * self.horizon)
        for j, q in enumerate(self.levels):
            cols[f"q{q:g}"] = pa.array(self.quantiles[:, j].astype(float))
        return pa.table(cols)


def forecast_dates(incidence: Incidence, horizon: int) -> list | None:
    if incidence.dates is None:
        return None
    return [incidence.date_of(len(incidence) + h) for h in range(horizon)]


def sample_quantiles(samples: np.ndarray, levels: tuple[float, ...] = HUB_QUANTILES) -> np.ndarray:
    """Per-day quantiles of (n_samples, horizon) simulated counts; monotone by construction."""
    return np.quantile(samples, levels, axis=0).T


def overdispersion(incidence: Incidence, si: np.ndarray, window: int = 7,
                   lookback: int = 28) -> float:
    """Method-of-moments NB overdispersion phi (var = mu + phi mu^2) of one-day-ahead
    predictions R_{t-1} Lambda_t over the last ``lookback`` days; 0 means Poisson."""
    n = len(incidence)
    if n < window + 3:
        return 0.0
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
        return 0.0
    phi = (((y - mu) ** 2 - mu).sum()) / (mu**2).sum()
    return float(np.clip(phi, 0.0, MAX_OVERDISPERSION))


def _negbin(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    if phi <= 1e-9:
        return rng.poisson(mu).astype(float)
    size = 1.0 / phi
    # gamma-Poisson mixture: stable for any mu, including 0
    return rng.poisson(rng.gamma(size, np.maximum(mu, 0.0) / size)).astype(float)


def simulate_renewal(incidence: Incidence, si: np.ndarray, horizon: int, *, window: int = 7,
                     drift_sd: float = DEFAULT_DRIFT_SD, damping: float = DEFAULT_DAMPING,
                     phi: float | None = None, phi_floor: float = DEFAULT_PHI_FLOOR,
                     n_samples: int = 2000, seed: int = 1, prior_mean: float = 5.0,
                     prior_sd: float = 5.0) -> tuple[np.ndarray, dict]:
    """Simulated future counts, shape (n_samples, horizon), and the fitted settings."""
    rng = np.random.default_rng(seed)
    inc = incidence.with_first_day_imported()
    n = len(inc)
    est = estimate_rt(incidence, si, t_start=np.array([max(2, n - window + 1)]),
                      t_end=np.array([n]), prior_mean=prior_mean, prior_sd=prior_sd)
    if phi is None:
        # the floor keeps intervals honest when a short history looks less noisy than it is
        phi = max(overdispersion(incidence, si, window=window), phi_floor)
    if est.estimable[0]:
        r = est.sample(0, n_samples, rng)
    else:  # nothing infectious in the last window: no local transmission to project
        r = np.zeros(n_samples)
    w = fit_to_length(si, n + horizon)
    w[0] = 0.0
    # weights below 1e-12 of the largest change nothing: only the SI's support is convolved
    support = int(np.flatnonzero(w > 1e-12 * w.max()).max()) + 1 if w.any() else 1
    paths = np.zeros((n_samples, n + horizon))
    paths[:, :n] = inc.total
    for h in range(horizon):
        t = n + h
        lo = max(0, t - support + 1)
        lam = paths[:, lo:t] @ w[1 : t - lo + 1][::-1]
        if h > 0:
            # damping < 1 pulls log R towards 0 (R towards 1): growth does not go on for ever
            r = np.exp(damping * np.log(np.maximum(r, 1e-12))
                       + (rng.normal(0.0, drift_sd, n_samples) if drift_sd > 0 else 0.0))
        paths[:, t] = _negbin(rng, r * lam, phi)
    info = {"r_mean": float(est.mean[0]) if est.estimable[0] else float("nan"),
            "phi": phi, "drift_sd": drift_sd, "damping": damping}
    return paths[:, n:], info


def renewal_forecast(incidence: Incidence, si: np.ndarray, horizon: int = 14,
                     **kwargs) -> QuantileForecast:
    """The renewal model's forecast as hub quantiles (see module docstring)."""
    samples, info = simulate_renewal(incidence, si, horizon, **kwargs)
    return QuantileForecast("renewal", len(incidence), sample_quantiles(samples),
                            dates=forecast_dates(incidence, horizon), extra=info)
