"""Deterministic SEIR with asymptomatic and isolated compartments, over one or more groups.

Compartments per group g (a group is an age band; one group is the plain model):
S susceptible, E exposed (latent), I symptomatic infectious, A asymptomatic infectious,
Q isolated (no longer transmits), R removed.

    lambda_g = beta * sum_h C[g, h] * (I_h + rel_asym * A_h) / N_h
    dS/dt = -lambda S
    dE/dt =  lambda S - sigma E
    dI/dt = (1 - p_asym) sigma E - (gamma + kappa) I
    dA/dt =  p_asym sigma E - gamma A
    dQ/dt =  kappa I - gamma_q Q
    dR/dt =  gamma I + gamma A + gamma_q Q

kappa is the isolation rate of symptomatic cases (1 / mean days from onset to isolation); it
may change over time (faster isolation scenario), as may the contact matrix C (per-layer
interventions). Both are piecewise constant per day, given by a :class:`Schedule`.
Reported cases are ``rho`` times new symptomatic onsets (flow E -> I).

The basic reproduction number is the spectral radius of the next-generation matrix
``K = beta * T * diag(N) C diag(1/N)`` with ``T = (1-p_asym)/(gamma+kappa) + p_asym*rel_asym/gamma``
the expected infectious time weighted by infectiousness; K is similar to ``beta*T*C``, so
R0 = beta * T * rho(C) (see :mod:`epicenter.model.age_structured`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from epicenter.model.ode import integrate_days

COMPARTMENTS = ("S", "E", "I", "A", "Q", "R")
S, E, I, A, Q, R = range(6)  # noqa: E741 - compartment names of the equations


@dataclass(frozen=True)
class SEIRParams:
    """Rates per day. Defaults: latent 3 d, infectious 5 d, everyone symptomatic, no isolation."""

    beta: float
    sigma: float = 1 / 3
    gamma: float = 1 / 5
    p_asym: float = 0.0
    rel_asym: float = 1.0
    kappa: float = 0.0
    gamma_q: float = 1 / 10
    rho: float = 1.0

    def __post_init__(self) -> None:
        if self.beta < 0 or self.sigma <= 0 or self.gamma <= 0 or self.gamma_q <= 0:
            raise ValueError("beta must be >= 0 and sigma, gamma, gamma_q > 0")
        if not (0 <= self.p_asym <= 1 and 0 <= self.rho <= 1):
            raise ValueError("p_asym and rho are probabilities")
        if self.kappa < 0 or self.rel_asym < 0:
            raise ValueError("kappa and rel_asym must be >= 0")

    def infectious_time(self, kappa: float | None = None) -> float:
        """Expected infectiousness-weighted time an infection spends infectious (days)."""
        k = self.kappa if kappa is None else kappa
        return (1 - self.p_asym) / (self.gamma + k) + self.p_asym * self.rel_asym / self.gamma

    def with_(self, **changes: float) -> SEIRParams:
        return replace(self, **changes)


class Schedule(Protocol):
    """What changes over time: the contact matrix and the isolation rate, per day index."""

    def contacts(self, day: int) -> np.ndarray: ...

    def kappa(self, day: int, default: float) -> float: ...


@dataclass
class ConstantSchedule:
    """No intervention: one contact matrix for the whole run."""

    matrix: np.ndarray

    def contacts(self, day: int) -> np.ndarray:
        return self.matrix

    def kappa(self, day: int, default: float) -> float:
        return default


@dataclass
class Trajectory:
    """Daily output of a run. ``states`` has shape (days+1, 6, G) (or with a leading member axis
    for ensembles); flows are per day (day d = flows during [d, d+1))."""

    days: np.ndarray
    states: np.ndarray
    infections: np.ndarray  # new infections S -> E per day, (days, G)
    onsets: np.ndarray  # new symptomatic onsets E -> I per day, (days, G)
    reported: np.ndarray  # rho * onsets
    meta: dict = field(default_factory=dict)

    def total(self, name: str) -> np.ndarray:
        """A compartment summed over groups, per day."""
        return self.states[..., COMPARTMENTS.index(name), :].sum(axis=-1)


def initial_state(population: np.ndarray, exposed: np.ndarray | float = 0.0,
                  infectious: np.ndarray | float = 0.0) -> np.ndarray:
    """State (6, G) with seeds placed in E and I; seeds given as a total are spread by population."""
    pop = np.asarray(population, dtype=float)
    x = np.zeros((6, pop.size))

    def spread(seed: np.ndarray | float) -> np.ndarray:
        seed = np.asarray(seed, dtype=float)
        return seed * pop / pop.sum() if seed.ndim == 0 else seed

    x[E] = spread(exposed)
    x[I] = spread(infectious)
    x[S] = pop - x[E] - x[I]
    if (x[S] < 0).any():
        raise ValueError("seeds exceed the population")
    return x


def derivative(x: np.ndarray, p: SEIRParams, contacts: np.ndarray, kappa: float,
               population: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time derivative of the state, plus the infection and onset rates (for flow counting)."""
    force = p.beta * contacts @ ((x[I] + p.rel_asym * x[A]) / population)
    infection = force * x[S]
    leave_e = p.sigma * x[E]
    onset = (1 - p.p_asym) * leave_e
    isolate = kappa * x[I]
    dx = np.empty_like(x)
    dx[S] = -infection
    dx[E] = infection - leave_e
    dx[I] = onset - (p.gamma + kappa) * x[I]
    dx[A] = p.p_asym * leave_e - p.gamma * x[A]
    dx[Q] = isolate - p.gamma_q * x[Q]
    dx[R] = p.gamma * (x[I] + x[A]) + p.gamma_q * x[Q]
    return dx, infection, onset


def simulate(params: SEIRParams, population: np.ndarray, x0: np.ndarray, days: int,
             schedule: Schedule | None = None, steps_per_day: int = 8) -> Trajectory:
    """Integrate with a fixed-step RK4 (``steps_per_day`` steps per day).

    Fixed steps, because interventions switch at day boundaries and the likelihood needs the
    exact daily flows; infections and onsets are integrated alongside the state so daily
    counts are consistent with the state to the integrator's accuracy.
    """
    pop = np.asarray(population, dtype=float)
    if schedule is None:
        schedule = ConstantSchedule(np.ones((1, 1)) if pop.size == 1 else np.eye(pop.size))

    def rhs_for_day(d: int, _x: np.ndarray):
        c, kap = schedule.contacts(d), schedule.kappa(d, params.kappa)
        return lambda y: derivative(y, params, c, kap, pop)

    states, infections, onsets = integrate_days(rhs_for_day, x0, days, steps_per_day)
    return Trajectory(np.arange(days + 1), states, infections, onsets, params.rho * onsets)


def sir_final_size(r0: float, tol: float = 1e-12) -> float:
    """Attack rate z solving z = 1 - exp(-R0 z) (Kermack-McKendrick), 0 when R0 <= 1."""
    if r0 <= 1:
        return 0.0
    z = 1.0 - 1e-9
    for _ in range(200):  # Newton from above converges monotonically for this convex map
        f = z - 1 + np.exp(-r0 * z)
        step = f / (1 - r0 * np.exp(-r0 * z))
        z -= step
        if abs(step) < tol:
            break
    return float(z)


def growth_rate(params: SEIRParams, contacts: np.ndarray | None = None,
                population: np.ndarray | None = None) -> float:
    """Early exponential growth rate r: dominant eigenvalue of the linearised infected system."""
    c = np.ones((1, 1)) if contacts is None else np.asarray(contacts, dtype=float)
    g = c.shape[0]
    pop = np.ones(g) if population is None else np.asarray(population, dtype=float)
    mix = params.beta * c * (pop[:, None] / pop[None, :])  # infections in g per infected in h
    z = np.zeros((g, g))
    eye = np.eye(g)
    # infected subsystem (E, I, A) near the disease-free state (S = N)
    jac = np.block([
        [-params.sigma * eye, mix, params.rel_asym * mix],
        [(1 - params.p_asym) * params.sigma * eye, -(params.gamma + params.kappa) * eye, z],
        [params.p_asym * params.sigma * eye, z, -params.gamma * eye],
    ])
    return float(np.max(np.linalg.eigvals(jac).real))
