"""IF-EAKF: iterated filtering with an ensemble adjustment Kalman filter (Li et al. 2020).

The inference method of Li et al. for the metapopulation model. An ensemble of members,
each with its own parameters (b, m, a, Z, D, theta) and state (S, E, Ir, Iu, R per area),
runs the stochastic model day by day. Each day, every area's reported count y (observation
error variance max(4, y^2/4)) updates the members (Anderson 2001): the predicted report of
member k, h_k, is shifted to h_k' so the ensemble gets the posterior mean and variance of a
Gaussian update, and every unobserved quantity (that area's E, Iu, and the six parameters)
moves by its ensemble regression on h: dx_k = cov(x, h) / var(h) * (h_k' - h_k). States
are then clipped to [0, stock] and parameters to the prior bounds.

Iterated filtering (Ionides et al. 2006, as Li et al.): the filter runs ``iterations``
times; each run starts from the previous run's time-averaged posterior parameter means,
perturbed with a spread that shrinks geometrically (x ``cooling`` per iteration). The
estimate is the last run's posterior at the end of the window (mean and 95% range).

Predicted reports: documented new infections of each member convolved with the Gamma
(shape 1.85, mean 9 d) reporting delay. Seeds: E and Iu in the seed area ~ U(0, 2000).

``inflation`` > 1 spreads the parameters and the E, Iu states about their ensemble mean
each day before the update, as Li et al.'s code does (1.1); off by default, because on the
Li data it left the posterior spread over most of the prior (docs/models.md §5).

Zero counts are not assimilated by default (``assimilate_zeros=False``). Why: the predicted
report of an area with few cases is a skewed count; the Gaussian update against an
observed 0 pulls every member down, and thousands of such updates (most areas report 0
on most days) bias the reporting rate a low. On simulated data (truth a = 0.30) the
estimate moved from 0.21 to 0.26 without zeros, other parameters unchanged; on the Li et
al. data a went from 0.03 (pinned at the prior bound) to 0.09. Early zeros also mostly
mean "no testing yet" in Jan 2020. docs/models.md gives both results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicenter.model import metapop as mp
from epicenter.model.metapop_data import MetapopData

NAMES = ("b", "m", "theta", "Z", "a", "D")
LOW = np.array([0.8, 0.2, 1.0, 2.0, 0.02, 2.0])
HIGH = np.array([1.5, 1.0, 1.75, 5.0, 1.0, 5.0])


@dataclass
class _MemberParams:
    """Per-member parameters shaped (members, 1) so they broadcast over areas."""

    b: np.ndarray
    m: np.ndarray
    theta: np.ndarray
    Z: np.ndarray
    a: np.ndarray
    D: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _MemberParams:
        return cls(*(values[:, i : i + 1] for i in range(len(NAMES))))


@dataclass
class EAKFResult:
    names: tuple[str, ...]
    ensemble: np.ndarray  # (members, 6) parameters at the end of the last iteration
    history: np.ndarray  # (iterations, 6) time-averaged posterior means per iteration
    infections_seed_area: np.ndarray  # (members,) new infections over the window, last run
    infections_total: np.ndarray
    # (members, 6) each member's parameters averaged over the days of the last run: Li et
    # al.'s estimate, steadier than the end of the window when inflation is on
    time_mean: np.ndarray | None = None

    def params(self, estimate: str = "end") -> np.ndarray:
        if estimate == "time_mean" and self.time_mean is not None:
            return self.time_mean
        if estimate not in ("end", "time_mean"):
            raise ValueError("estimate is 'end' or 'time_mean'")
        return self.ensemble

    def reproduction(self, estimate: str = "end") -> np.ndarray:
        v = dict(zip(self.names, self.params(estimate).T, strict=True))
        return v["a"] * v["b"] * v["D"] + (1 - v["a"]) * v["m"] * v["b"] * v["D"]

    @property
    def re(self) -> np.ndarray:
        return self.reproduction("end")

    def summary(self, estimate: str = "end") -> list[dict]:
        rows = []
        columns = [*zip(self.names, self.params(estimate).T, strict=True),
                   ("Re", self.reproduction(estimate)),
                   ("infections_seed_area", self.infections_seed_area),
                   ("infections_total", self.infections_total)]
        for name, values in columns:
            lo, mid, hi = np.quantile(values, [0.025, 0.5, 0.975])
            rows.append({"parameter": name, "mean": float(values.mean()), "q0.025": float(lo),
                         "q0.5": float(mid), "q0.975": float(hi)})
        return rows


def _step(rng: np.random.Generator, x: np.ndarray, p: _MemberParams, mob: np.ndarray,
          steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One day of the stochastic model for members with their own parameters (in place)."""
    dt = 1.0 / steps
    leave = p.theta * mob.sum(axis=0)
    new_inf = np.zeros(x.shape[::2])
    new_doc = np.zeros(x.shape[::2])
    for _ in range(steps):
        total = x.sum(axis=1)
        force = p.b * (x[:, mp.IR] + p.m * x[:, mp.IU]) / total
        new_e = mp.capped_poisson(rng, dt * force * x[:, mp.S], x[:, mp.S])
        incubate = mp.capped_poisson(rng, dt * x[:, mp.E] / p.Z, x[:, mp.E])
        new_r = rng.binomial(incubate.astype(np.int64), np.broadcast_to(p.a, incubate.shape))
        rec_r = mp.capped_poisson(rng, dt * x[:, mp.IR] / p.D, x[:, mp.IR])
        rec_u = mp.capped_poisson(rng, dt * x[:, mp.IU] / p.D, x[:, mp.IU])
        x[:, mp.S] -= new_e
        x[:, mp.E] += new_e - incubate
        x[:, mp.IR] += new_r - rec_r
        x[:, mp.IU] += incubate - new_r - rec_u
        x[:, mp.R] += rec_r + rec_u
        new_inf += new_e
        new_doc += new_r
        mp.travel_stochastic(rng, x, p, mob, leave, dt)
    return new_inf, new_doc


def _adjust(values: np.ndarray, h: np.ndarray, y: float) -> np.ndarray | None:
    """Regression increments of ``values`` (members, q) for one observation y of h."""
    var_h = h.var()
    if var_h <= 0:
        return None
    obs_var = max(4.0, y * y / 4.0)
    mean_h = h.mean()
    post_var = var_h * obs_var / (var_h + obs_var)
    post_mean = post_var * (mean_h / var_h + y / obs_var)
    shrink = np.sqrt(obs_var / (obs_var + var_h))
    dh = post_mean + shrink * (h - mean_h) - h
    cov = (values - values.mean(axis=0)).T @ (h - mean_h) / (h.size - 1)
    return dh[:, None] * (cov / (var_h * h.size / (h.size - 1)))[None, :]


def _inflate(values: np.ndarray, factor: float) -> np.ndarray:
    """Spread members away from their mean by ``factor`` (axis 0 = members)."""
    mean = values.mean(axis=0, keepdims=True)
    return mean + factor * (values - mean)


def _run_filter(data: MetapopData, y: np.ndarray, theta: np.ndarray, seed_area: int,
                rng: np.random.Generator, pmf: np.ndarray, steps: int, zeros: bool,
                inflation: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    members, days = theta.shape[0], y.shape[0]
    n = data.population.size
    x = np.zeros((members, 5, n))
    seeds = rng.uniform(0, 2000, size=(members, 2))
    flows = data.mobility(0)
    for k in range(members):
        x[k] = mp.seed_state(data.population, seed_area, seeds[k, 0], seeds[k, 1], flows)
    x[:, [mp.E, mp.IU]] = np.rint(x[:, [mp.E, mp.IU]])
    x[:, mp.S] = data.population - x[:, [mp.E, mp.IU]].sum(axis=1)
    doc = np.zeros((members, days, n))
    inf = np.zeros((members, n))
    means = []
    floor = mp.FLOOR * data.population
    member_sum = np.zeros_like(theta)
    for d in range(days):
        mob = mp.throttle(data.mobility(d), float(theta[:, 2].max()), x.sum(axis=1).mean(axis=0),
                          floor)
        new_inf, new_doc = _step(rng, x, _MemberParams.of(theta), mob, steps)
        doc[:, d] = new_doc
        inf += new_inf
        if inflation != 1.0:
            # Li et al.'s multiplicative inflation (1.1) against ensemble collapse
            theta = np.clip(_inflate(theta, inflation), LOW, HIGH)
            x[:, [mp.E, mp.IU]] = np.clip(np.rint(_inflate(x[:, [mp.E, mp.IU]], inflation)), 0,
                                          None)
        h_all = np.einsum("kdn,d->kn", doc[:, : d + 1], pmf[: d + 1][::-1])  # reports today
        size = x.sum(axis=1)  # adjusted infected are taken from / given back to S
        observed = h_all.var(axis=0) > 0
        if not zeros:
            observed &= y[d] > 0
        for area in np.flatnonzero(observed):
            h = h_all[:, area]
            stacked = np.column_stack([x[:, mp.E, area], x[:, mp.IU, area], theta])
            inc = _adjust(stacked, h, float(y[d, area]))
            if inc is None:
                continue
            stacked += inc
            x[:, mp.E, area] = np.clip(np.rint(stacked[:, 0]), 0, None)
            x[:, mp.IU, area] = np.clip(np.rint(stacked[:, 1]), 0, None)
            theta = np.clip(stacked[:, 2:], LOW, HIGH)
        x[:, mp.S] = np.maximum(size - x[:, 1:].sum(axis=1), 0.0)
        means.append(theta.mean(axis=0))
        member_sum += theta
    return theta, np.array(means), inf[:, seed_area], inf.sum(axis=1), member_sum / days


def if_eakf(data: MetapopData, seed_area: str = "Wuhan", days: int = 14, members: int = 300,
            iterations: int = 10, cooling: float = 0.9, seed: int = 0,
            steps_per_day: int = 4, assimilate_zeros: bool = False,
            inflation: float = 1.0) -> EAKFResult:
    """Estimate (b, m, theta, Z, a, D) from ``data.cases[:days]`` by IF-EAKF."""
    if data.cases is None:
        raise ValueError("the data have no case counts to fit")
    rng = np.random.default_rng(seed)
    area = data.index(seed_area)
    y = data.cases[:days]
    pmf = mp.report_delay_pmf()
    center = rng.uniform(LOW, HIGH, size=(members, len(NAMES)))  # first run: the prior
    history = []
    for it in range(iterations):
        if it == 0:
            theta = center
        else:
            spread = 0.25 * (HIGH - LOW) * cooling**it
            theta = np.clip(history[-1] + rng.normal(size=(members, len(NAMES))) * spread,
                            LOW, HIGH)
        theta, means, local, total, time_mean = _run_filter(
            data, y, theta, area, rng, pmf, steps_per_day, assimilate_zeros, inflation)
        history.append(means.mean(axis=0))
    return EAKFResult(NAMES, theta, np.array(history), local, total, time_mean)
