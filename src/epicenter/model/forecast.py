"""Renewal-equation forecasts of daily cases with hub quantiles.

The model continues the Cori et al. renewal process beyond the last observed day:

    R_T       ~ posterior Gamma of the last Rt window (epicenter.model.rt), moved from the
                window's centre to the origin by the recent slope of log Rt; or the prior
                when the series has only just started (no infectiousness yet)
    log R_t+1 = d * log R_t + N(0, drift_sd^2),  d = damping if R_t > 1 else damping_below,
                R capped at MAX_R
    y_t       ~ NegBin(mean R_t * Lambda_t, overdispersion phi)

The series is taken from its first case (leading days without cases carry no information,
and the first cases are the seeds). Lambda_t is the infectiousness of observed and already
simulated cases. Growth is pulled back towards R = 1 faster than decline is (growth meets
depletion and control; a decline under control persists), hence the two factors. The
overdispersion phi, the drift sd and both damping factors start from priors learned by
backtest on other series and are revised by the series' own past
(epicenter.model.renewal_evidence), so noisy reporting or a volatile R widens the intervals,
and a steady decline, or a sustained growth, is carried on.
Paths are simulated by Monte Carlo with a fixed seed; the forecast is the 23 hub quantiles
of the simulated counts on each day, taken as mid-distribution quantiles
(epicenter.model.count_quantiles: a "50% interval" of a small count then holds about 50% of
the forecast's probability, not up to 92%). Future imported cases are taken as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from epicenter.model.count_quantiles import sample_quantiles
from epicenter.model.incidence import Incidence
from epicenter.model.renewal_evidence import (
    damping_above_for,
    damping_below_for,
    dispersion_for,
    drift_sd_for,
    log_rt_slope,
)
from epicenter.model.rt import estimate_rt
from epicenter.model.scoring import HUB_QUANTILES
from epicenter.model.serial_interval import fit_to_length

# Priors chosen by backtest on 34 Li et al. cities (ranked 21-60 by cases, minus those among
# the 20 with most cases by 23 January), which neither documented evaluation uses: the lowest
# mean WIS among the settings whose 50% and 90% coverage were within 10 points of nominal at
# 7 and 14 days. The evidence weights of phi and damping_below (which those short series never
# reach) were chosen by lowest mean WIS on a second synthetic city (20,000 x 60, seed 2, the
# generator of session 2). docs/forecast.md has the grids.
DEFAULT_DRIFT_SD = 0.5  # sd per day of the random walk on log R
DEFAULT_DAMPING = 0.6  # log R_{t+1} = damping * log R_t + noise, while R > 1 (prior)
DEFAULT_DAMPING_BELOW = 0.8  # the same while R < 1
DEFAULT_PHI_PRIOR = 0.3  # NB overdispersion (var = mu + phi mu^2) before any evidence
DEFAULT_PHI_PRIOR_WEIGHT = 3.0  # days of evidence the prior is worth
DEFAULT_DAMPING_PRIOR_WEIGHT = 0.1  # independent weekly changes of Rt DAMPING_BELOW is worth
# Chosen with the nowcast on a held-out synthetic city (100,000 x 60, seed 2: sustained
# growth) as the setting closest to the coverage goal (none met it there); the Li et al.
# tuning series are too short to reach them (docs/forecast.md, "Sustained growth").
DEFAULT_DRIFT_PRIOR_WEIGHT = 0.25  # the same for DEFAULT_DRIFT_SD
DEFAULT_GROWTH_PRIOR_WEIGHT = 1.0  # the same for DEFAULT_DAMPING
MAX_R = 50.0  # no epidemic has a larger R; caps paths of a weakly damped walk
MAX_DAILY_MEAN = 1e10  # more than the world's population: caps the mean of exploding paths
# each simulated day's quantiles are mid-distribution quantiles, so that a labelled interval of a
# small-count forecast holds about its nominal probability (docs/forecast.md, "Quantiles of
# counts"); "integer" gives the ordinary sample quantiles
QUANTILE_CONVENTION = "mid"


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


def from_first_case(incidence: Incidence) -> Incidence:
    """The series from its first day with a case: EpiEstim's "day 1 is imported" convention
    then applies to the first cases, whose infectors are unobserved, and not to an empty day."""
    nonzero = np.flatnonzero(incidence.total > 0)
    if len(nonzero) == 0 or nonzero[0] == 0:
        return incidence
    first = int(nonzero[0])
    return Incidence(incidence.local[first:], incidence.imported[first:],
                     incidence.dates[first:] if incidence.dates else None)


def _negbin(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    if phi <= 1e-9:
        return rng.poisson(np.clip(mu, 0.0, MAX_DAILY_MEAN)).astype(float)
    size = 1.0 / phi
    # gamma-Poisson mixture: stable for any mu, including 0; the gamma draw is capped so
    # that the Poisson stays within its range however far a path has exploded
    lam = np.minimum(rng.gamma(size, np.maximum(mu, 0.0) / size), MAX_DAILY_MEAN)
    return rng.poisson(lam).astype(float)


def simulate_renewal(incidence: Incidence, si: np.ndarray, horizon: int, *, window: int = 7,
                     drift_sd: float = DEFAULT_DRIFT_SD, damping: float = DEFAULT_DAMPING,
                     damping_below: float = DEFAULT_DAMPING_BELOW,
                     drift_prior_weight: float = DEFAULT_DRIFT_PRIOR_WEIGHT,
                     damping_prior_weight: float = DEFAULT_DAMPING_PRIOR_WEIGHT,
                     growth_prior_weight: float = DEFAULT_GROWTH_PRIOR_WEIGHT,
                     nowcast: bool = True,
                     phi: float | None = None, phi_prior: float = DEFAULT_PHI_PRIOR,
                     phi_prior_weight: float = DEFAULT_PHI_PRIOR_WEIGHT,
                     n_samples: int = 2000, seed: int = 1, prior_mean: float = 5.0,
                     prior_sd: float = 5.0) -> tuple[np.ndarray, dict]:
    """Simulated future counts, shape (n_samples, horizon), and the fitted settings."""
    rng = np.random.default_rng(seed)
    incidence = from_first_case(incidence)
    inc = incidence.with_first_day_imported()
    n = len(inc)
    if phi is None:
        phi = dispersion_for(incidence, si, phi_prior, phi_prior_weight, window=window)
    # the series' own past revises the priors (learned on other series) as far as it goes
    if drift_sd > 0:
        drift_sd = drift_sd_for(incidence, si, drift_sd, drift_prior_weight, window=window)
    damping_below = damping_below_for(incidence, si, damping_below, damping_prior_weight,
                                      window=window)
    damping = damping_above_for(incidence, si, damping, growth_prior_weight, window=window)
    est = None
    if n >= 2:
        est = estimate_rt(incidence, si, t_start=np.array([max(2, n - window + 1)]),
                          t_end=np.array([n]), prior_mean=prior_mean, prior_sd=prior_sd)
    if est is not None and est.estimable[0]:
        r = est.sample(0, n_samples, rng)
        if nowcast:
            # the window estimates R at its centre; a steadily falling (or rising) R has moved
            # on by the origin, and left alone the forecast lags it by (window - 1) / 2 days
            r *= np.exp(log_rt_slope(incidence, si, window, prior_mean, prior_sd)
                        * (window - 1) / 2)
    else:
        # the cases so far are all seeds (nothing infectious before them): the data say
        # nothing about R yet, so it is drawn from the prior rather than set to 0
        r = rng.gamma((prior_mean / prior_sd) ** 2, prior_sd**2 / prior_mean, n_samples)
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
            # damping < 1 pulls log R towards 0 (R towards 1); growth and decline get their
            # own factor (see DEFAULT_DAMPING_BELOW)
            log_r = np.log(np.maximum(r, 1e-12))
            log_r *= np.where(log_r > 0, damping, damping_below)
            log_r += rng.normal(0.0, drift_sd, n_samples) if drift_sd > 0 else 0.0
            r = np.exp(np.minimum(log_r, np.log(MAX_R)))
        paths[:, t] = _negbin(rng, r * lam, phi)
    info = {"r_mean": float(est.mean[0]) if est is not None and est.estimable[0] else float("nan"),
            "phi": phi, "drift_sd": drift_sd, "damping": damping, "damping_below": damping_below}
    return paths[:, n:], info


def renewal_forecast(incidence: Incidence, si: np.ndarray, horizon: int = 14, *,
                     convention: str = QUANTILE_CONVENTION, **kwargs) -> QuantileForecast:
    """The renewal model's forecast as hub quantiles (see module docstring); ``convention``
    is how quantiles of the simulated counts are taken (epicenter.model.count_quantiles)."""
    samples, info = simulate_renewal(incidence, si, horizon, **kwargs)
    return QuantileForecast("renewal", len(incidence),
                            sample_quantiles(samples, convention=convention),
                            dates=forecast_dates(incidence, horizon), extra=info)
