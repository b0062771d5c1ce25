"""Age-structured SEIR on layered contact matrices: R0, beta from a target R0, interventions.

Interventions act per layer from a given day: the contact matrix in force is
``C(t) = C_home*h(t) + C_school*s(t) + C_work*w(t) + C_community*c(t)``; faster isolation
changes kappa (the symptomatic isolation rate) from a given day.

R0 is the spectral radius of the next-generation matrix. With
``lambda_i = beta * sum_j C_ij (I_j + rel_asym A_j) / N_j`` one infected person of group j
infects ``K_ij = beta * T * N_i C_ij / N_j`` people of group i (T: infectiousness-weighted
infectious time, :meth:`SEIRParams.infectious_time`). ``K = beta T D C D^-1`` with
``D = diag(N)`` is similar to ``beta T C``, so both have the same spectral radius.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicenter.model.contacts import LAYERS, ContactData
from epicenter.model.seir import SEIRParams


def next_generation_matrix(params: SEIRParams, contacts: np.ndarray,
                           population: np.ndarray, kappa: float | None = None) -> np.ndarray:
    pop = np.asarray(population, dtype=float)
    return params.beta * params.infectious_time(kappa) * contacts * (pop[:, None] / pop[None, :])


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def r0(params: SEIRParams, contacts: np.ndarray, population: np.ndarray,
       kappa: float | None = None) -> float:
    """Basic (or, with reduced contacts, control) reproduction number."""
    return spectral_radius(next_generation_matrix(params, contacts, population, kappa))


def beta_for_r0(target: float, params: SEIRParams, contacts: np.ndarray) -> float:
    """Transmission rate that gives R0 = target with these contacts (R0 is linear in beta)."""
    return target / (params.infectious_time() * spectral_radius(contacts))


@dataclass(frozen=True)
class Measure:
    """Layer multipliers and/or an isolation delay in force from ``start`` (day index) on.

    A multiplier left as None keeps the value in force before; ``isolation_days`` is the
    mean delay from symptom onset to isolation (kappa = 1 / isolation_days).
    """

    start: int
    home: float | None = None
    school: float | None = None
    work: float | None = None
    community: float | None = None
    isolation_days: float | None = None

    def __post_init__(self) -> None:
        for name in LAYERS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} multiplier must be >= 0")
        if self.isolation_days is not None and self.isolation_days <= 0:
            raise ValueError("isolation_days must be > 0")


@dataclass
class LayerSchedule:
    """Contact matrix and isolation rate per day from a list of measures (applied in order)."""

    data: ContactData
    measures: list[Measure] = field(default_factory=list)
    _cache: dict = field(default_factory=dict, repr=False)

    def state(self, day: int) -> tuple[dict[str, float], float | None]:
        weights = dict.fromkeys(LAYERS, 1.0)
        isolation: float | None = None
        for m in sorted(self.measures, key=lambda m: m.start):
            if m.start > day:
                break
            for name in LAYERS:
                if getattr(m, name) is not None:
                    weights[name] = getattr(m, name)
            if m.isolation_days is not None:
                isolation = m.isolation_days
        return weights, isolation

    def contacts(self, day: int) -> np.ndarray:
        weights, _ = self.state(day)
        key = tuple(weights.values())
        if key not in self._cache:
            self._cache[key] = self.data.combine(**weights)
        return self._cache[key]

    def kappa(self, day: int, default: float) -> float:
        _, isolation = self.state(day)
        return default if isolation is None else 1.0 / isolation

    def reproduction_number(self, params: SEIRParams, day: int) -> float:
        """Control reproduction number with the measures in force on ``day``."""
        return r0(params, self.contacts(day), self.data.population,
                  kappa=self.kappa(day, params.kappa))
