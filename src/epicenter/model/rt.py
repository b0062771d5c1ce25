"""Time-varying reproduction number by the method of Cori et al. 2013 (EpiEstim conventions).

Cases on day t are Poisson with mean R * Lambda_t, where the total infectiousness
Lambda_t = sum_{k>=1} w_k (local + imported)_{t-k}. Over a window of days the Gamma(a, scale b)
prior is conjugate: the posterior is Gamma(a + sum local_t, 1 / (1/b + sum Lambda_t)).
Only local cases count in the numerator (imported cases were infected elsewhere) while every
case is infectious. Day 1 is treated as imported, as EpiEstim does, because its infectors are
unobserved. Windows are numbered 1-based and inclusive, as EpiEstim numbers them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.stats import gamma

from epicenter.model.incidence import Incidence
from epicenter.model.serial_interval import fit_to_length

RT_QUANTILES = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)


def infectiousness(total: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Lambda_t for t = 0..T-1 (0-based): sum_{k=1}^{t} w_k * total_{t-k}; Lambda_0 = 0."""
    total = np.asarray(total, dtype=float)
    w = fit_to_length(si, len(total))
    w[0] = 0.0  # same-day transmission is excluded by construction
    return np.convolve(total, w)[: len(total)]


def default_windows(n_days: int, window: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """EpiEstim's default sliding windows: t_start = 2..T-window+1, t_end = t_start+window-1."""
    if window < 1:
        raise ValueError("window must be at least 1 day")
    t_start = np.arange(2, n_days - window + 2)
    if len(t_start) == 0:
        raise ValueError(f"a {window}-day window needs at least {window + 1} days of data")
    return t_start, t_start + window - 1


@dataclass(frozen=True)
class RtEstimate:
    """Posterior Gamma(shape, scale) of R per window; NaN where R cannot be estimated."""

    t_start: np.ndarray
    t_end: np.ndarray
    shape: np.ndarray
    scale: np.ndarray
    incidence: Incidence

    @property
    def estimable(self) -> np.ndarray:
        return np.isfinite(self.shape) & np.isfinite(self.scale)

    @property
    def mean(self) -> np.ndarray:
        return self.shape * self.scale

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.shape) * self.scale

    def quantile(self, q: float) -> np.ndarray:
        out = np.full(len(self.shape), np.nan)
        ok = self.estimable
        out[ok] = gamma.ppf(q, self.shape[ok], scale=self.scale[ok])
        return out

    def sample(self, index: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Draws of R from the posterior of window ``index`` (python indexing)."""
        return rng.gamma(self.shape[index], self.scale[index], size=size)

    def to_table(self) -> pa.Table:
        def col(values: np.ndarray) -> pa.Array:
            return pa.array([None if not np.isfinite(v) else float(v) for v in values], pa.float64())

        cols: dict[str, pa.Array] = {
            "t_start": pa.array(self.t_start.astype(int)),
            "t_end": pa.array(self.t_end.astype(int)),
        }
        if self.incidence.dates is not None:
            cols["date_start"] = pa.array([self.incidence.date_of(int(t) - 1) for t in self.t_start])
            cols["date_end"] = pa.array([self.incidence.date_of(int(t) - 1) for t in self.t_end])
        cols["mean"] = col(self.mean)
        cols["sd"] = col(self.sd)
        for q in RT_QUANTILES:
            cols[f"q{q:g}"] = col(self.quantile(q))
        return pa.table(cols)


def estimate_rt(incidence: Incidence, si: np.ndarray, t_start: np.ndarray | None = None,
                t_end: np.ndarray | None = None, window: int = 7, prior_mean: float = 5.0,
                prior_sd: float = 5.0) -> RtEstimate:
    """Cori et al. 2013 posterior of R over each window [t_start, t_end] (1-based, inclusive)."""
    if prior_mean <= 0 or prior_sd <= 0:
        raise ValueError("prior mean and sd must be positive")
    inc = incidence.with_first_day_imported()
    n = len(inc)
    if t_start is None or t_end is None:
        t_start, t_end = default_windows(n, window)
    t_start, t_end = np.asarray(t_start, dtype=int), np.asarray(t_end, dtype=int)
    if (t_start < 2).any() or (t_end > n).any() or (t_end < t_start).any():
        raise ValueError("windows must satisfy 2 <= t_start <= t_end <= number of days")
    lam = infectiousness(inc.total, si)
    # cumulative sums make every window an O(1) difference
    cum_local = np.concatenate([[0.0], np.cumsum(inc.local)])
    cum_lam = np.concatenate([[0.0], np.cumsum(lam)])
    sum_local = cum_local[t_end] - cum_local[t_start - 1]
    sum_lam = cum_lam[t_end] - cum_lam[t_start - 1]
    prior_shape = (prior_mean / prior_sd) ** 2
    prior_scale = prior_sd**2 / prior_mean
    with np.errstate(divide="ignore"):
        scale = 1.0 / (1.0 / prior_scale + sum_lam)
    shape = prior_shape + sum_local
    # no infectiousness in the window: the data say nothing about R there
    no_info = sum_lam <= 0
    shape = np.where(no_info, np.nan, shape)
    scale = np.where(no_info, np.nan, scale)
    return RtEstimate(t_start, t_end, shape, scale, incidence)
