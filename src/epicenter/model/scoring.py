"""Scoring quantile forecasts: weighted interval score, its decomposition, coverage.

WIS (Bracher et al. 2021) over K central intervals (alpha_k) and the median m, the median
counted once (scoringutils' default):

    WIS = ( 0.5 |y - m| + sum_k (alpha_k / 2) IS_alpha_k(l_k, u_k; y) ) / (K + 0.5)
    IS_a(l, u; y) = (u - l) + (2/a)(l - y) 1[y < l] + (2/a)(y - u) 1[y > u]

Dispersion collects the width terms, overprediction the y < l terms (and the median term when
y < m), underprediction the y > u terms (and the median term when y > m); they sum to WIS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HUB_QUANTILES = (0.01, 0.025, *np.round(np.arange(0.05, 0.951, 0.05), 2).tolist(), 0.975, 0.99)
SCORE_COLUMNS = ("wis", "overprediction", "underprediction", "dispersion", "cov50", "cov90",
                 "ae_median")


@dataclass(frozen=True)
class QuantileLayout:
    """Where the median and each central interval's bounds sit among the quantile levels."""

    median: int
    lower: np.ndarray
    upper: np.ndarray
    alpha: np.ndarray


def layout(levels: np.ndarray | tuple, tol: float = 1e-9) -> QuantileLayout:
    """Pair each level tau < 0.5 with 1 - tau; the levels must include 0.5 and be symmetric."""
    levels = np.asarray(levels, dtype=float)
    median = np.flatnonzero(np.abs(levels - 0.5) < tol)
    if len(median) != 1:
        raise ValueError("quantile levels must include the median (0.5) once")
    lower, upper = [], []
    for i, tau in enumerate(levels):
        if tau < 0.5 - tol:
            match = np.flatnonzero(np.abs(levels - (1 - tau)) < tol)
            if len(match) != 1:
                raise ValueError(f"quantile level {tau} has no symmetric partner {1 - tau}")
            lower.append(i)
            upper.append(match[0])
    if len(lower) != int((levels > 0.5 + tol).sum()):
        raise ValueError("quantile levels are not symmetric around the median")
    lower_arr = np.array(lower, dtype=int)
    return QuantileLayout(int(median[0]), lower_arr, np.array(upper, dtype=int),
                          2 * levels[lower_arr])


def interval_score_parts(observed: np.ndarray, predicted: np.ndarray,
                         levels: np.ndarray | tuple) -> dict[str, np.ndarray]:
    """WIS and its decomposition for each forecast.

    ``observed`` has shape (n,); ``predicted`` has shape (n, L), column j the quantile at
    ``levels[j]``.
    """
    y = np.asarray(observed, dtype=float)
    q = np.asarray(predicted, dtype=float)
    if q.ndim != 2 or q.shape[0] != len(y):
        raise ValueError("predicted must have one row of quantiles per observation")
    lay = layout(levels)
    lo, hi = q[:, lay.lower], q[:, lay.upper]
    half_alpha = lay.alpha / 2
    yy = y[:, None]
    m = q[:, lay.median]
    dispersion = (half_alpha * (hi - lo)).sum(axis=1)
    over = np.where(yy < lo, lo - yy, 0.0).sum(axis=1) + 0.5 * np.where(y < m, m - y, 0.0)
    under = np.where(yy > hi, yy - hi, 0.0).sum(axis=1) + 0.5 * np.where(y > m, y - m, 0.0)
    denom = len(lay.alpha) + 0.5
    parts = {"dispersion": dispersion / denom, "overprediction": over / denom,
             "underprediction": under / denom}
    parts["wis"] = parts["dispersion"] + parts["overprediction"] + parts["underprediction"]
    return parts


def coverage(observed: np.ndarray, predicted: np.ndarray, levels: np.ndarray | tuple,
             interval: float) -> np.ndarray:
    """1.0 where the observation lies in the central ``interval`` % range (bounds inclusive)."""
    levels = np.asarray(levels, dtype=float)
    tau = (1 - interval / 100) / 2
    lo = np.flatnonzero(np.abs(levels - tau) < 1e-9)
    hi = np.flatnonzero(np.abs(levels - (1 - tau)) < 1e-9)
    if len(lo) != 1 or len(hi) != 1:
        raise ValueError(f"no {interval}% central interval among the quantile levels")
    y = np.asarray(observed, dtype=float)
    q = np.asarray(predicted, dtype=float)
    return ((q[:, lo[0]] <= y) & (y <= q[:, hi[0]])).astype(float)


def score(observed: np.ndarray, predicted: np.ndarray,
          levels: np.ndarray | tuple) -> dict[str, np.ndarray]:
    """Every per-forecast score in SCORE_COLUMNS (the scoringutils quantile metrics we use)."""
    parts = interval_score_parts(observed, predicted, levels)
    lay = layout(levels)
    for interval in (50, 90):
        try:
            parts[f"cov{interval}"] = coverage(observed, predicted, levels, interval)
        except ValueError:  # that interval is not among the levels: coverage is undefined
            parts[f"cov{interval}"] = np.full(len(parts["wis"]), np.nan)
    parts["ae_median"] = np.abs(np.asarray(observed, float) - np.asarray(predicted, float)[:, lay.median])
    return parts


def pinball_wis(observed: np.ndarray, predicted: np.ndarray, levels: np.ndarray | tuple) -> np.ndarray:
    """WIS as (2 / (2K + 1)) * total pinball loss: an independent formula used as a check."""
    y = np.asarray(observed, dtype=float)[:, None]
    q = np.asarray(predicted, dtype=float)
    tau = np.asarray(levels, dtype=float)[None, :]
    loss = ((y < q).astype(float) - tau) * (q - y)
    return 2.0 * loss.sum(axis=1) / q.shape[1]


def score_long(frame, forecast_keys: list[str], summary_keys: list[str]):
    """Score a long table (one row per quantile) and average per ``summary_keys``.

    ``frame`` is a pandas DataFrame with the ``forecast_keys`` identifying one forecast,
    ``observed``, ``quantile_level`` and ``predicted``. Returns a DataFrame with
    ``summary_keys`` and the mean of every column in SCORE_COLUMNS.
    """
    import pandas as pd

    wide = frame.pivot_table(index=[*forecast_keys, "observed"], columns="quantile_level",
                             values="predicted", aggfunc="first").reset_index()
    levels = np.array([c for c in wide.columns if isinstance(c, float)])
    predicted = wide[list(levels)].to_numpy(dtype=float)
    if np.isnan(predicted).any():
        raise ValueError("some forecasts lack quantile levels that others have")
    scores = pd.DataFrame(score(wide["observed"].to_numpy(float), predicted, levels))
    scores[summary_keys] = wide[summary_keys].to_numpy()
    return scores.groupby(summary_keys, as_index=False)[list(SCORE_COLUMNS)].mean()
