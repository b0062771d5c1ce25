"""Calibrate the Li et al. metapopulation model to reported cases per area and day.

Li et al. used IF-EAKF on the stochastic model. We fit the deterministic mean field by
adaptive Metropolis (:mod:`calib_mcmc`) with a negative binomial likelihood over every
area and day: expected reports = documented new infections (a E/Z) convolved with the
Gamma(shape 1.85, mean 9 d) reporting delay. Priors are Li et al.'s uniform ranges for
b, m, a, Z, D, theta; the seed (E and Iu in the seed area on day 0, equal, as a total in
[1, 4000] on the log scale: Li et al. draw each of E and Iu from U(0, 2000)) and the NB
size k (log scale) complete the parameters. Re = a b D + (1-a) m b D is derived per draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicenter.model.calib_mcmc import Posterior, Prior, adaptive_metropolis, negbin_logpmf
from epicenter.model.metapop import (
    MetapopParams,
    expected_reports,
    report_delay_pmf,
    seed_state,
    simulate,
)
from epicenter.model.metapop_data import MetapopData

LI_PRIORS = (
    Prior("b", 0.8, 1.5), Prior("m", 0.2, 1.0), Prior("theta", 1.0, 1.75),
    Prior("Z", 2.0, 5.0), Prior("a", 0.02, 1.0), Prior("D", 2.0, 5.0),
    Prior("seed", 1.0, 4000.0, log=True), Prior("k", 0.01, 100.0, log=True),
)


@dataclass
class MetapopFit:
    posterior: Posterior
    data: MetapopData
    seed_area: int
    days: int

    def draw_params(self, i: int) -> tuple[MetapopParams, float]:
        v = dict(zip(self.posterior.names, self.posterior.draws[i], strict=True))
        return MetapopParams(b=v["b"], m=v["m"], a=v["a"], Z=v["Z"], D=v["D"],
                             theta=v["theta"]), v["seed"]

    def derived(self) -> dict[str, np.ndarray]:
        """Re and new infections (seed area, all areas) over the fitted window, per draw."""
        re, local, total = [], [], []
        for i in range(len(self.posterior.draws)):
            p, seed = self.draw_params(i)
            run = _run(p, seed, self.data, self.seed_area, self.days)
            re.append(p.re)
            local.append(run.infections[:, self.seed_area].sum())
            total.append(run.infections.sum())
        return {"Re": np.array(re), "infections_seed_area": np.array(local),
                "infections_total": np.array(total)}


def _run(p: MetapopParams, seed: float, data: MetapopData, seed_area: int, days: int):
    x0 = seed_state(data.population, seed_area, seed / 2, seed / 2, data.mobility(0))
    return simulate(p, x0, days, data.mobility, steps_per_day=2)


def calibrate_metapop(data: MetapopData, seed_area: str = "Wuhan", days: int = 14,
                      iterations: int = 3000, mcmc_seed: int = 0,
                      priors: tuple[Prior, ...] = LI_PRIORS, daily: bool = True) -> MetapopFit:
    """Posterior of the Li et al. parameters from ``data.cases[:days]`` (all areas).

    ``daily=False`` fits each area's total over the window instead of its daily counts:
    early reports rose with testing capacity (zero until Jan 16 2020, then a surge), and a
    mean-field model read day by day takes that ramp for transmission; totals per area keep
    the spatial information (how far the infection spread) without the ramp.
    """
    if data.cases is None:
        raise ValueError("the data have no case counts to fit")
    area = data.index(seed_area)
    y = data.cases[:days] if daily else data.cases[:days].sum(axis=0)
    pmf = report_delay_pmf()

    def log_likelihood(v: dict[str, float]) -> float:
        p = MetapopParams(b=v["b"], m=v["m"], a=v["a"], Z=v["Z"], D=v["D"], theta=v["theta"])
        run = _run(p, v["seed"], data, area, days)
        mean = expected_reports(run.documented, pmf)
        return negbin_logpmf(y, mean if daily else mean.sum(axis=0), v["k"])

    start = {"b": 1.1, "m": 0.6, "theta": 1.3, "Z": 3.5, "a": 0.3, "D": 3.5, "seed": 500.0,
             "k": 1.0}
    post = adaptive_metropolis(log_likelihood, priors, start, iterations=iterations,
                               seed=mcmc_seed)
    return MetapopFit(post, data, area, days)
