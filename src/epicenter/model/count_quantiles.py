"""Quantiles of a count distribution: the integer convention and mid-distribution quantiles.

A forecast of daily counts is a discrete distribution. Its ordinary quantile,
Q(u) = min{y : F(y) >= u}, is an integer that can carry much probability: for Poisson(1),
Q(0.25) = 0 and Q(0.75) = 2, and the "50% interval" [0, 2] holds 92% of the forecast's own
outcomes (bounds count as covered). Interval coverage of small-count forecasts then reads far
above nominal however well calibrated they are.

The mid-distribution quantile (Parzen 2004, Statist. Sci. 19:652; Ma, Genton and Parzen
2011, Bernoulli 17:689) inverts the mid-CDF, F_mid(y) = F(y - 1) + P(Y = y) / 2, linearly
interpolated between the support points and held constant beyond the first and last:
each atom's probability is split evenly around it. For a sample without ties it is the
Hazen (type 5) sample quantile. Its intervals are fractional; an integer outcome counts as
covered when it lies between the bounds, so an atom near a bound is either fully in or fully
out, and over forecasts whose bounds fall at varied places between integers the coverage
averages to the nominal level, where the integer convention's always rounds outwards.

The price: expected pinball loss (hence WIS) of an integer-valued outcome is piecewise
linear between integers, minimised at the integer quantile, so fractional quantiles cost a
little expected WIS. docs/forecast.md ("Quantiles of counts") has both measured.
"""

from __future__ import annotations

import numpy as np

from epicenter.model.scoring import HUB_QUANTILES

CONVENTIONS = ("integer", "mid")


def integer_quantiles(values: np.ndarray, probs: np.ndarray,
                      levels: tuple[float, ...] = HUB_QUANTILES) -> np.ndarray:
    """Q(u) = min{y : F(y) >= u} of the distribution P(values[i]) = probs[i] (values sorted)."""
    cdf = np.cumsum(probs) / np.sum(probs)
    # a level equal to a CDF value up to rounding belongs to that support point
    idx = np.searchsorted(cdf, np.asarray(levels) - 1e-12, side="left")
    return np.asarray(values, dtype=float)[np.minimum(idx, len(cdf) - 1)]


def mid_quantiles(values: np.ndarray, probs: np.ndarray,
                  levels: tuple[float, ...] = HUB_QUANTILES) -> np.ndarray:
    """Mid-distribution quantiles of P(values[i]) = probs[i] (values sorted, distinct)."""
    p = np.asarray(probs, dtype=float) / np.sum(probs)
    mid_cdf = np.cumsum(p) - p / 2
    return np.interp(levels, mid_cdf, np.asarray(values, dtype=float))


def sample_quantiles(samples: np.ndarray, levels: tuple[float, ...] = HUB_QUANTILES,
                     convention: str = "integer") -> np.ndarray:
    """Per-day quantiles of (n_samples, horizon) simulated counts, shape (horizon, levels).

    ``integer``: numpy's default (linear) sample quantile, which for counts with ties is the
    integer quantile except where a level falls exactly between two support points;
    ``mid``: the mid-distribution quantile of each day's empirical distribution.
    Both are non-decreasing in the level.
    """
    s = np.asarray(samples, dtype=float)
    if convention == "integer":
        return np.quantile(s, levels, axis=0).T
    if convention != "mid":
        raise ValueError(f"unknown quantile convention {convention!r}; use one of {CONVENTIONS}")
    out = np.empty((s.shape[1], len(levels)))
    for day in range(s.shape[1]):
        values, counts = np.unique(s[:, day], return_counts=True)
        out[day] = mid_quantiles(values, counts, levels)
    return out
