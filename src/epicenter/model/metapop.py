"""Metapopulation SEIR over areas linked by daily OD matrices (Li et al. 2020, Science 368:489).

Per area i, with M[d][i, j] the travellers from j to i on day d, documented infected (Ir)
not travelling and everyone else travelling in proportion to their share of N - Ir:

    dS_i  = -b S_i Ir_i/N_i - m b S_i Iu_i/N_i + th sum_j M_ij S_j/(N_j-Ir_j) - th S_i/(N_i-Ir_i) sum_j M_ji
    dE_i  =  b S_i Ir_i/N_i + m b S_i Iu_i/N_i - E_i/Z   + (travel of E, same form)
    dIr_i =  a E_i/Z - Ir_i/Dr
    dIu_i = (1-a) E_i/Z - Iu_i/D                       + (travel of Iu)
    dR_i  =  Ir_i/Dr + Iu_i/D                           + (travel of R)

Li et al. keep R implicit (N - S - E - Ir - Iu); we carry it explicitly so the balance of
every compartment can be checked; N_i = S+E+Ir+Iu+R then moves exactly as their
``dN_i = th sum_j M_ij - th sum_j M_ji``. ``Dr`` (days a documented case stays infectious
before isolation) defaults to D as in the paper; shortening it is the "faster isolation"
intervention. Re = a b Dr + (1-a) m b D.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from epicenter.model.ode import integrate_days

COMPARTMENTS = ("S", "E", "Ir", "Iu", "R")
S, E, IR, IU, R = range(5)
TRAVELLING = (S, E, IU, R)
FLOOR = 0.6  # no area's population falls below this share of its initial value (Li et al.)


@dataclass(frozen=True)
class MetapopParams:
    b: float = 1.12  # transmission rate of documented infections (per day)
    m: float = 0.55  # relative transmissibility of undocumented infections
    a: float = 0.14  # share of infections documented (reporting rate)
    Z: float = 3.69  # mean latent period (days)
    D: float = 3.47  # mean infectious period (days)
    theta: float = 1.36  # multiplier on reported travel (under-count correction)
    Dr: float | None = None  # infectious days of documented cases; None -> D

    @property
    def d_documented(self) -> float:
        return self.D if self.Dr is None else self.Dr

    @property
    def re(self) -> float:
        return self.a * self.b * self.d_documented + (1 - self.a) * self.m * self.b * self.D

    def with_(self, **changes: float) -> MetapopParams:
        return replace(self, **changes)


Mobility = Callable[[int], np.ndarray]  # day index -> M[dest, origin] (n x n)


@dataclass
class MetapopRun:
    """Daily output. ``states``: (days+1, 5, n) (leading member axis for ensembles);
    ``infections`` and ``documented``: new (documented) infections per day, (days, n)."""

    states: np.ndarray
    infections: np.ndarray
    documented: np.ndarray


def seed_state(population: np.ndarray, seed_area: int, exposed: float, undocumented: float,
               first_flows: np.ndarray | None = None, factor: float = 3.0) -> np.ndarray:
    """Initial state: E and Iu in the seed area; elsewhere ``factor`` x (flow from the seed
    area on day 0) x (the seed area's prevalence), as Li et al.'s initialisation."""
    pop = np.asarray(population, dtype=float)
    x = np.zeros((5, pop.size))
    x[E, seed_area], x[IU, seed_area] = exposed, undocumented
    if first_flows is not None:
        inflow = first_flows[:, seed_area].astype(float).copy()
        inflow[seed_area] = 0.0
        x[E] += factor * inflow * exposed / pop[seed_area]
        x[IU] += factor * inflow * undocumented / pop[seed_area]
    x[S] = pop - x[E] - x[IU]
    return x


def inflow(mob: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows @ mob.T`` (arrivals per destination for each row of origin amounts).

    Done as one matrix-vector product per row: at this size OpenBLAS's threaded
    matrix-matrix product is several times slower than gemv when the cores are busy.
    """
    return np.stack([mob @ r for r in rows])


def _epidemic_rates(x: np.ndarray, p: MetapopParams, beta_scale: float) -> tuple:
    n = x.sum(axis=-2)
    b = p.b * beta_scale
    infect = b * x[..., S, :] * (x[..., IR, :] + p.m * x[..., IU, :]) / n
    incubate = x[..., E, :] / p.Z
    return infect, incubate, x[..., IR, :] / p.d_documented, x[..., IU, :] / p.D


def derivative(x: np.ndarray, p: MetapopParams, mob: np.ndarray, leave: np.ndarray,
               beta_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """d state / dt for one state (5, n); ``leave`` = theta * column sums of ``mob``."""
    infect, incubate, rec_r, rec_u = _epidemic_rates(x, p, beta_scale)
    dx = np.zeros_like(x)
    dx[S] = -infect
    dx[E] = infect - incubate
    dx[IR] = p.a * incubate - rec_r
    dx[IU] = (1 - p.a) * incubate - rec_u
    dx[R] = rec_r + rec_u
    movers = np.maximum(x.sum(axis=0) - x[IR], 1e-12)
    share = x[list(TRAVELLING)] / movers  # (4, n) share of each travelling compartment
    dx[list(TRAVELLING)] += p.theta * inflow(mob, share) - share * leave
    return dx, infect, p.a * incubate


def throttle(mob: np.ndarray, theta: float, population: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Cap each area's departures for the day at its population above ``floor``.

    The OD data are not balanced (over Jan 10-23 some cities send out several times their
    population net); Li et al. floor N at 0.6 N0 after the fact, which creates people. We
    instead scale the column of M (the departures) so that no area falls below the floor;
    the same travellers arrive at the destinations, so the total stays conserved.
    """
    departures = theta * mob.sum(axis=0)
    room = np.maximum(population - floor, 0.0)
    scale = np.minimum(1.0, np.divide(room, departures, out=np.ones_like(room),
                                      where=departures > 0))
    return mob * scale[None, :]


def simulate(params: MetapopParams, x0: np.ndarray, days: int, mobility: Mobility,
             steps_per_day: int = 4, beta_scale: Callable[[int], float] | None = None) -> MetapopRun:
    """Deterministic mean field, fixed-step RK4; mobility and beta_scale constant within a day."""
    floor = FLOOR * np.asarray(x0, dtype=float).sum(axis=0)

    def rhs_for_day(d: int, x: np.ndarray):
        mob = throttle(mobility(d), params.theta, x.sum(axis=0), floor)
        leave = params.theta * mob.sum(axis=0)
        scale = 1.0 if beta_scale is None else beta_scale(d)
        return lambda y: derivative(y, params, mob, leave, scale)

    states, infections, documented = integrate_days(rhs_for_day, x0, days, steps_per_day)
    return MetapopRun(states, infections, documented)


def capped_poisson(rng: np.random.Generator, mean: np.ndarray, stock: np.ndarray) -> np.ndarray:
    return np.minimum(rng.poisson(np.maximum(mean, 0.0)), np.floor(np.maximum(stock, 0.0)))


def travel_stochastic(rng: np.random.Generator, x: np.ndarray, p: MetapopParams,
                       mob: np.ndarray, leave: np.ndarray, dt: float) -> None:
    """Move people between areas in place, for an ensemble state (members, 5, n).

    Susceptible and removed counts are millions, so they move by their expected flows;
    infected people (E, Iu) move as whole persons: Poisson outflow per origin, capped by
    the stock, spread over destinations by a multinomial in proportion to M[:, origin].
    Everyone who leaves arrives somewhere, so the total is conserved exactly.
    """
    movers = np.maximum(x.sum(axis=1) - x[:, IR], 1e-12)  # (members, n)
    for c in (S, R):
        share = x[:, c] / movers
        x[:, c] += dt * (p.theta * inflow(mob, share) - share * leave)
    colsum = mob.sum(axis=0)
    probs = np.divide(mob, colsum, out=np.zeros_like(mob), where=colsum > 0).T  # (origin, dest)
    for c in (E, IU):
        out = capped_poisson(rng, dt * x[:, c] / movers * leave, x[:, c])
        member, origin = np.nonzero(out)
        if member.size == 0:
            continue
        counts = out[member, origin].astype(np.int64)
        arrivals = rng.multinomial(counts, probs[origin])  # (k, n)
        x[:, c] -= out
        # np.nonzero lists members in ascending order: sum each member's block of rows
        first = np.flatnonzero(np.r_[True, member[1:] != member[:-1]])
        x[member[first], c] += np.add.reduceat(arrivals, first, axis=0)


def simulate_stochastic(params: MetapopParams, x0: np.ndarray, days: int, mobility: Mobility,
                        members: int = 50, seed: int | None = 0, steps_per_day: int = 4,
                        beta_scale: Callable[[int], float] | None = None,
                        b: np.ndarray | None = None,
                        documented_days: Callable[[int], float | None] | None = None) -> MetapopRun:
    """Ensemble of stochastic runs: Poisson epidemic flows capped by the stock (as Li et al.),
    tau-leap with ``steps_per_day`` steps. ``b`` optionally gives one b per member;
    ``documented_days(day)`` overrides Dr from that day (faster isolation), None keeps it."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / steps_per_day
    x = np.broadcast_to(np.asarray(x0, dtype=float), (members,) + np.shape(x0)).copy()
    x[:, [E, IR, IU]] = np.rint(x[:, [E, IR, IU]])
    x[:, S] = np.asarray(x0).sum(axis=0) - x[:, [E, IR, IU, R]].sum(axis=1)
    n = x.shape[2]
    bs = np.full(members, params.b) if b is None else np.asarray(b, dtype=float)
    states = np.empty((days + 1, members, 5, n))
    infections = np.zeros((days, members, n))
    documented = np.zeros((days, members, n))
    states[0] = x
    floor = FLOOR * x[0].sum(axis=0)
    for d in range(days):
        # one matrix for all members (their populations differ by a handful of infected)
        mob = throttle(mobility(d), params.theta, x.sum(axis=1).mean(axis=0), floor)
        leave = params.theta * mob.sum(axis=0)
        scale = 1.0 if beta_scale is None else beta_scale(d)
        dr = None if documented_days is None else documented_days(d)
        p_day = params if dr is None else params.with_(Dr=dr)
        for _ in range(steps_per_day):
            total = x.sum(axis=1)
            force = bs[:, None] * scale * (x[:, IR] + params.m * x[:, IU]) / total
            new_e = capped_poisson(rng, dt * force * x[:, S], x[:, S])
            incubate = capped_poisson(rng, dt * x[:, E] / params.Z, x[:, E])
            new_r = rng.binomial(incubate.astype(np.int64), params.a)
            rec_r = capped_poisson(rng, dt * x[:, IR] / p_day.d_documented, x[:, IR])
            rec_u = capped_poisson(rng, dt * x[:, IU] / params.D, x[:, IU])
            x[:, S] -= new_e
            x[:, E] += new_e - incubate
            x[:, IR] += new_r - rec_r
            x[:, IU] += incubate - new_r - rec_u
            x[:, R] += rec_r + rec_u
            infections[d] += new_e
            documented[d] += new_r
            travel_stochastic(rng, x, params, mob, leave, dt)
        states[d + 1] = x
    return MetapopRun(states.transpose(1, 0, 2, 3), infections.transpose(1, 0, 2),
                      documented.transpose(1, 0, 2))


def report_delay_pmf(shape: float = 1.85, mean: float = 9.0, max_days: int = 40) -> np.ndarray:
    """Discretised Gamma reporting delay: P(delay in [d, d+1)) for d = 0..max_days, renormalised."""
    from scipy.stats import gamma

    cdf = gamma.cdf(np.arange(max_days + 2), a=shape, scale=mean / shape)
    pmf = np.diff(cdf)
    return pmf / pmf.sum()


def expected_reports(documented: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Cases reported per day: documented infections (days along axis -2) convolved with the delay."""
    days = documented.shape[-2]
    out = np.zeros_like(documented, dtype=float)
    for lag, w in enumerate(pmf[:days]):
        out[..., lag:, :] += w * documented[..., : days - lag, :]
    return out
