"""Discrete serial-interval distributions for the renewal equation.

The parametric case is the offset gamma of Cori et al. 2013 (web appendix 11): the serial
interval minus one day is gamma with mean ``mean - 1`` and sd ``sd``, and the probability of
``k`` days is the integral of that density against a triangular kernel centred on ``k``
(linear interpolation of the continuous infection time). Written in closed form with the
gamma CDF ``F`` (shape ``a``, scale ``b``) and the CDF ``G`` of shape ``a + 1``:

    w_k = k F(k) + (k-2) F(k-2) - 2 (k-1) F(k-1)
          + a b (2 G(k-1) - G(k-2) - G(k))          (clipped at 0)

using ``F(x) = 0`` for ``x <= 0``. This reproduces EpiEstim's ``discr_si``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy.stats import gamma


def discretised_gamma(k: np.ndarray | int, mean: float, sd: float) -> np.ndarray:
    """Probability that the serial interval is ``k`` days (offset gamma, Cori 2013)."""
    if mean <= 1 or sd <= 0:
        raise ValueError("offset-gamma serial interval needs mean > 1 and sd > 0")
    k = np.asarray(k, dtype=float)
    a = ((mean - 1.0) / sd) ** 2
    b = sd**2 / (mean - 1.0)

    def cdf(x: np.ndarray, shape: float) -> np.ndarray:
        # the gamma CDF is 0 for x <= 0; scipy already returns 0 there
        return gamma.cdf(x, shape, scale=b)

    w = k * cdf(k, a) + (k - 2) * cdf(k - 2, a) - 2 * (k - 1) * cdf(k - 1, a)
    w = w + a * b * (2 * cdf(k - 1, a + 1) - cdf(k - 2, a + 1) - cdf(k, a + 1))
    return np.maximum(w, 0.0)


def parametric_si(mean: float, sd: float, n_days: int) -> np.ndarray:
    """The pmf over k = 0..n_days as EpiEstim uses it for a series of ``n_days`` days.

    EpiEstim evaluates k = 0..T-1 and pads a zero at k = T; the last weight therefore is 0
    and the pmf sums to slightly less than 1 (the tail beyond the series cannot matter).
    """
    return np.append(discretised_gamma(np.arange(n_days), mean, sd), 0.0)


def read_si_distr(path: Path | str) -> np.ndarray:
    """A non-parametric serial interval from a CSV with columns ``k, p`` (k = 0, 1, ...)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"k", "p"} <= set(rows[0]):
        raise ValueError(f"{path}: a serial-interval file needs columns k, p")
    ks = [int(float(r["k"])) for r in rows]
    pmf = np.zeros(max(ks) + 1)
    for k, r in zip(ks, rows, strict=True):
        pmf[k] = float(r["p"])
    return validate_si(pmf)


def validate_si(pmf: np.ndarray) -> np.ndarray:
    """Check the EpiEstim requirements: non-negative, p[0] = 0, sums to 1."""
    pmf = np.asarray(pmf, dtype=float)
    if pmf.ndim != 1 or len(pmf) < 2:
        raise ValueError("serial interval needs at least k = 0 and k = 1")
    if (pmf < 0).any():
        raise ValueError("serial-interval probabilities must be non-negative")
    if pmf[0] != 0:
        raise ValueError("serial interval must have p[0] = 0 (no same-day transmission)")
    if abs(pmf.sum() - 1.0) > 0.01:
        raise ValueError(f"serial-interval probabilities sum to {pmf.sum():.4f}, not 1")
    return pmf


def fit_to_length(pmf: np.ndarray, n: int) -> np.ndarray:
    """Truncate or zero-pad a pmf to k = 0..n-1 (weights beyond the series cannot matter)."""
    out = np.zeros(n)
    m = min(n, len(pmf))
    out[:m] = pmf[:m]
    return out
