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
