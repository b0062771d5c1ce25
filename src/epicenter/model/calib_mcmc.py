"""Adaptive Metropolis MCMC (Haario, Saksman & Tamminen 2001) for bounded parameters.

Every parameter has a uniform prior on [low, high] (optionally on the log scale). The
chain runs in an unbounded space (logit of the position inside the bounds), adding the
log-Jacobian of the transform, so proposals never leave the support. After ``adapt_start``
iterations the Gaussian proposal uses the chain's running covariance scaled by 2.38^2/d
(the optimal scale for Gaussian targets), plus a small ridge so it stays non-singular.
During burn-in a global factor on that scale is tuned towards 23.4% acceptance
(Robbins-Monro, Andrieu & Thoms 2008), which rescues chains whose early covariance is
poorly estimated (e.g. a narrow posterior started far away); it is frozen afterwards so
the kept draws come from a fixed kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Prior:
    name: str
    low: float
    high: float
    log: bool = False  # uniform on log scale (scale parameters spanning decades)

    def __post_init__(self) -> None:
        if not self.low < self.high or (self.log and self.low <= 0):
            raise ValueError(f"bad bounds for {self.name}")

    def _bounds(self) -> tuple[float, float]:
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def to_free(self, value: float) -> float:
        lo, hi = self._bounds()
        u = ((math.log(value) if self.log else value) - lo) / (hi - lo)
        u = min(max(u, 1e-9), 1 - 1e-9)
        return math.log(u / (1 - u))

    def from_free(self, z: float) -> tuple[float, float]:
        """Value and log-Jacobian log|d value_on_prior_scale / dz| (the prior is flat there)."""
        lo, hi = self._bounds()
        u = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        v = lo + (hi - lo) * u
        log_jac = math.log(hi - lo) + math.log(max(u * (1 - u), 1e-300))
        return (math.exp(v) if self.log else v), log_jac


@dataclass
class Posterior:
    names: list[str]
    draws: np.ndarray  # (n, d), after burn-in and thinning
    log_likelihood: np.ndarray
    acceptance: float
    meta: dict = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return self.draws[:, self.names.index(name)]

    def summary(self, levels: Sequence[float] = (0.025, 0.5, 0.975)) -> list[dict]:
        rows = []
        for i, name in enumerate(self.names):
            q = np.quantile(self.draws[:, i], levels)
            rows.append({"parameter": name, "mean": float(self.draws[:, i].mean()),
                         **{f"q{lv:g}": float(v) for lv, v in zip(levels, q, strict=True)}})
        return rows

    def effective_sample_size(self, name: str) -> float:
        """ESS from the initial positive sequence of autocorrelations (Geyer)."""
        x = self.column(name) - self.column(name).mean()
        n = x.size
        if n < 4 or not x.any():
            return float(n)
        f = np.fft.rfft(x, 2 * n)
        acf = np.fft.irfft(f * np.conj(f))[:n] / (x @ x)
        tau = 1.0
        for k in range(1, n - 1, 2):
            pair = acf[k] + acf[k + 1]
            if pair <= 0:
                break
            tau += 2 * pair
        return float(n / tau)


def adaptive_metropolis(log_likelihood: Callable[[dict[str, float]], float],
                        priors: Sequence[Prior], start: dict[str, float] | None = None,
                        iterations: int = 4000, burn_in: int | None = None, thin: int = 1,
                        adapt_start: int = 200, seed: int | None = 0,
                        initial_scale: float = 0.1) -> Posterior:
    """Sample the posterior of ``log_likelihood`` under uniform ``priors``."""
    rng = np.random.default_rng(seed)
    d = len(priors)
    burn_in = iterations // 2 if burn_in is None else burn_in
    if start is None:
        start = {p.name: (math.sqrt(p.low * p.high) if p.log else 0.5 * (p.low + p.high))
                 for p in priors}
    z = np.array([p.to_free(start[p.name]) for p in priors])

    def evaluate(zv: np.ndarray) -> tuple[float, float, dict[str, float]]:
        values, log_jac = {}, 0.0
        for p, zi in zip(priors, zv, strict=True):
            values[p.name], lj = p.from_free(float(zi))
            log_jac += lj
        ll = log_likelihood(values)
        return (ll + log_jac if np.isfinite(ll) else -np.inf), ll, values

    target, ll, values = evaluate(z)
    if not np.isfinite(target):
        raise ValueError("the likelihood is not finite at the starting point")
    scale = 2.38**2 / d
    log_factor = 0.0
    cov = np.eye(d) * initial_scale**2
    mean, m2 = z.copy(), np.zeros((d, d))  # running moments (Welford) of the chain
    kept, kept_ll, accepted = [], [], 0
    for it in range(1, iterations + 1):
        if it > adapt_start and it <= burn_in:
            cov = scale * (m2 / it) + 1e-10 * np.eye(d)
        step = rng.multivariate_normal(np.zeros(d), cov)
        proposal = z + math.exp(log_factor) * step
        t_new, ll_new, v_new = evaluate(proposal)
        alpha = math.exp(min(0.0, t_new - target)) if np.isfinite(t_new) else 0.0
        if rng.random() < alpha:
            z, target, ll, values = proposal, t_new, ll_new, v_new
            if it > burn_in:
                accepted += 1
        if it <= burn_in:
            log_factor += (alpha - 0.234) / it**0.6
        delta = z - mean
        mean += delta / (it + 1)
        m2 += np.outer(delta, z - mean)
        if it > burn_in and (it - burn_in) % thin == 0:
            kept.append([values[p.name] for p in priors])
            kept_ll.append(ll)
    return Posterior([p.name for p in priors], np.array(kept), np.array(kept_ll),
                     accepted / max(iterations - burn_in, 1), meta={"iterations": iterations, "burn_in": burn_in,
                                                  "thin": thin, "seed": seed})


def negbin_logpmf(y: np.ndarray, mean: np.ndarray, size: float) -> float:
    """Sum of NB log-probabilities, parameterised by mean and size k (variance mu + mu^2/k)."""
    from scipy.special import gammaln

    mu = np.maximum(mean, 1e-10)
    return float(np.sum(gammaln(y + size) - gammaln(size) - gammaln(y + 1)
                        + size * np.log(size / (size + mu)) + y * np.log(mu / (size + mu))))
