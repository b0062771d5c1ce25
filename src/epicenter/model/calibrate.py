"""Calibrate the SEIR model to daily case counts: negative binomial likelihood, adaptive MCMC.

Model: :mod:`epicenter.model.seir` (one population, or age groups with a contact matrix),
started on the first observed day with ``seed`` people exposed. Expected reported cases on
day t are ``rho`` x new symptomatic onsets on day t; observed counts are
NegBin(mean, size k) with variance mean + mean^2/k. Parameters and their uniform priors:
R0 (-> beta, via the next-generation matrix), seed (log scale), k (log scale) and, if not
fixed, rho. Latent and infectious periods and the asymptomatic share are fixed inputs
(they are not identifiable from case counts alone). Sampler: :mod:`calib_mcmc`.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicenter.model.age_structured import beta_for_r0
from epicenter.model.calib_mcmc import Posterior, Prior, adaptive_metropolis, negbin_logpmf
from epicenter.model.seir import (
    ConstantSchedule,
    SEIRParams,
    Trajectory,
    initial_state,
    simulate,
)


@dataclass
class CaseSeries:
    dates: list[dt.date]
    cases: np.ndarray


def read_cases_csv(path: Path | str) -> CaseSeries:
    """The ``incidence`` template: date (or day), and cases or local + imported."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = rows[0].keys()
    base = dt.date(2000, 1, 1)
    if "date" in cols:
        dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    elif "day" in cols:
        dates = [base + dt.timedelta(days=int(r["day"]) - 1) for r in rows]
    else:
        raise ValueError(f"{path}: needs a date or day column")
    if "cases" in cols:
        cases = [float(r["cases"]) for r in rows]
    elif {"local", "imported"} <= set(cols):
        cases = [float(r["local"]) + float(r["imported"]) for r in rows]
    else:
        raise ValueError(f"{path}: needs cases, or local and imported columns")
    order = np.argsort(dates)
    dates = [dates[i] for i in order]
    if any((b - a).days != 1 for a, b in zip(dates, dates[1:], strict=False)):
        raise ValueError(f"{path}: dates must be consecutive days")
    return CaseSeries(dates, np.array(cases)[order])


def cases_from_warehouse(settings, area: str) -> CaseSeries:  # noqa: ANN001 - Settings
    """Daily local + imported counts of one area from the warehouse ``incidence`` table."""
    from epicenter.warehouse import Warehouse

    with Warehouse(settings.home).open_engine(settings.engine) as engine:
        rows = engine.query(
            "SELECT date, sum(coalesce(local, 0) + coalesce(imported, 0)) AS cases "
            "FROM incidence WHERE area_code = $area GROUP BY date ORDER BY date",
            {"area": area}).to_pylist()
    if not rows:
        raise ValueError(f"no incidence rows for area {area!r}")
    first, last = rows[0]["date"], rows[-1]["date"]
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    by_date = {r["date"]: float(r["cases"]) for r in rows}
    return CaseSeries(dates, np.array([by_date.get(d, 0.0) for d in dates]))


@dataclass
class SEIRFit:
    posterior: Posterior
    base: SEIRParams
    population: np.ndarray
    contacts: np.ndarray
    series: CaseSeries

    def params(self, draw: dict[str, float]) -> SEIRParams:
        beta = beta_for_r0(draw["r0"], self.base, self.contacts)
        return self.base.with_(beta=beta, rho=draw.get("rho", self.base.rho))

    def trajectories(self, days: int, draws: int = 200, seed: int = 0
                     ) -> list[tuple[dict[str, float], Trajectory]]:
        """Deterministic runs for a random subset of posterior draws (posterior bands)."""
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self.posterior.draws), size=min(draws, len(self.posterior.draws)),
                         replace=False)
        out = []
        for i in idx:
            draw = dict(zip(self.posterior.names, self.posterior.draws[i], strict=True))
            x0 = initial_state(self.population, exposed=draw["seed"])
            out.append((draw, simulate(self.params(draw), self.population, x0, days,
                                       ConstantSchedule(self.contacts), steps_per_day=2)))
        return out

    def predictive(self, days: int, draws: int = 200, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Expected reported cases per draw, and posterior predictive counts (NB noise added),
        both (draws, days); ``days`` beyond the data gives a forecast."""
        rng = np.random.default_rng([seed, 2])
        expected, counts = [], []
        for draw, run in self.trajectories(days, draws, seed):
            mu = run.reported.sum(axis=1)
            expected.append(mu)
            counts.append(rng.negative_binomial(draw["k"], draw["k"] / (draw["k"] + mu)))
        return np.array(expected), np.array(counts)


def calibrate_seir(series: CaseSeries, population: float | np.ndarray,
                   base: SEIRParams | None = None, contacts: np.ndarray | None = None,
                   r0_range: tuple[float, float] = (0.5, 8.0),
                   seed_range: tuple[float, float] = (1.0, 1e4),
                   rho: float | tuple[float, float] = 1.0,
                   k_range: tuple[float, float] = (0.5, 1000.0),
                   iterations: int = 4000, mcmc_seed: int = 0,
                   steps_per_day: int = 1) -> SEIRFit:
    """Posterior of R0, seed, k (and rho) given daily reported cases.

    One RK4 step per day is enough here (relative error ~1e-5 against 8 steps for
    latent/infectious periods of a few days) and keeps a likelihood evaluation at ~5 ms.
    """
    pop = np.atleast_1d(np.asarray(population, dtype=float))
    c = np.ones((1, 1)) if contacts is None else np.asarray(contacts, dtype=float)
    base = base or SEIRParams(beta=0.0)
    y = np.asarray(series.cases, dtype=float)
    days = y.size
    schedule = ConstantSchedule(c)
    priors = [Prior("r0", *r0_range), Prior("seed", *seed_range, log=True),
              Prior("k", *k_range, log=True)]
    if isinstance(rho, tuple):
        priors.append(Prior("rho", *rho))

    def log_likelihood(v: dict[str, float]) -> float:
        p = base.with_(beta=beta_for_r0(v["r0"], base, c),
                       rho=v.get("rho", rho if not isinstance(rho, tuple) else base.rho))
        run = simulate(p, pop, initial_state(pop, exposed=v["seed"]), days, schedule,
                       steps_per_day=steps_per_day)
        return negbin_logpmf(y, run.reported.sum(axis=1), v["k"])

    start = {"r0": 0.5 * sum(r0_range), "seed": max(seed_range[0], min(10.0, seed_range[1])),
             "k": 10.0}
    if isinstance(rho, tuple):
        start["rho"] = 0.5 * sum(rho)
    else:
        base = base.with_(rho=rho)
    post = adaptive_metropolis(log_likelihood, priors, start, iterations=iterations,
                               seed=mcmc_seed)
    return SEIRFit(post, base, pop, c, series)
