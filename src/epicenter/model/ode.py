"""One fixed-step RK4 integrator shared by the SEIR family.

The models' right-hand sides return the state derivative together with the flows we
count (new infections, onsets or documented cases), so the counted flows are integrated
with the same weights as the state and stay consistent with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Derivative = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def rk4_step(f: Derivative, x: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance ``x`` by ``h``; returns (new state, integrated flow 1, integrated flow 2)."""
    k1, i1, o1 = f(x)
    k2, i2, o2 = f(x + 0.5 * h * k1)
    k3, i3, o3 = f(x + 0.5 * h * k2)
    k4, i4, o4 = f(x + h * k3)
    w = h / 6
    return (x + w * (k1 + 2 * k2 + 2 * k3 + k4), w * (i1 + 2 * i2 + 2 * i3 + i4),
            w * (o1 + 2 * o2 + 2 * o3 + o4))


def integrate_days(rhs_for_day: Callable[[int, np.ndarray], Derivative], x0: np.ndarray,
                   days: int, steps_per_day: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrate day by day with ``steps_per_day`` RK4 steps.

    ``rhs_for_day(d, x)`` gives the right-hand side for day ``d`` from the state at the day's
    start: interventions and mobility switch at day boundaries. Returns the states at every
    day boundary (days + 1 rows) and the two counted flows per day (days rows).
    """
    h = 1.0 / steps_per_day
    x = np.array(x0, dtype=float)
    states = np.empty((days + 1, *x.shape))
    flow1 = np.zeros((days, *x.shape[1:]))
    flow2 = np.zeros((days, *x.shape[1:]))
    states[0] = x
    for d in range(days):
        f = rhs_for_day(d, x)
        for _ in range(steps_per_day):
            x, new1, new2 = rk4_step(f, x, h)
            flow1[d] += new1
            flow2[d] += new2
        states[d + 1] = x
    return states, flow1, flow2
