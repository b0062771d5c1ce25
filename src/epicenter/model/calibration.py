"""How much of a backtest's interval coverage is the discreteness of counts.

The scoring counts an observation as covered when it lies in [q0.25, q0.75] (or
[q0.05, q0.95]), bounds included. For small counts those quantiles are integers that carry a
lot of probability: a forecast of Poisson(1) has q0.25 = 0 and q0.75 = 2, an interval that
holds 92% of its own outcomes. So the reported 50% coverage of a perfectly calibrated
forecast of small counts is far above 0.5, and "within 10 points of nominal" cannot be met by
any honest forecast of such series.

For each renewal forecast of a backtest this module reports, from the simulated paths:

- ``cov``: the coverage the scoring reports (observation within the quantile bounds);
- ``calibrated``: the coverage the scoring would report if the outcome were drawn from the
  forecast itself, P(q_lo <= Y <= q_hi) under the simulated distribution: what a perfectly
  calibrated forecast scores;
- ``pit``: whether the randomized probability integral transform of the observation,
  F(y - 1) + V (F(y) - F(y - 1)) with V uniform, lies in [lo, hi]; it is uniform for a
  calibrated forecast whatever the discreteness (Czado, Gneiting and Held 2009, Biometrics
  65:1254), so its mean is the coverage with the discreteness taken out.

``cov`` close to ``calibrated`` with ``pit`` close to nominal means the miss is discreteness;
``pit`` far from nominal is a real miscalibration (too wide above, too narrow below).

The quantiles are taken as the forecast takes them (mid-distribution quantiles by default,
epicenter.model.count_quantiles), which removes most of the discreteness from ``cov`` and
``calibrated``; with ``convention="integer"`` the module measures the older convention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from epicenter.model.backtest import origins
from epicenter.model.count_quantiles import sample_quantiles
from epicenter.model.forecast import QUANTILE_CONVENTION, simulate_renewal
from epicenter.model.incidence import Incidence
from epicenter.model.scoring import HUB_QUANTILES

INTERVALS = (50, 90)
# bands of the forecast mean: where discreteness matters (<= 3) and where it hardly does
MEAN_BANDS = (0.0, 1.0, 3.0, 10.0, 30.0, np.inf)


def forecast_calibration(samples: np.ndarray, observed: float, rng: np.random.Generator,
                         levels: tuple[float, ...] = HUB_QUANTILES,
                         convention: str = QUANTILE_CONVENTION) -> dict[str, float]:
    """Reported, calibrated and randomized-PIT coverage of one day's simulated forecast, its
    quantiles taken by ``convention`` (epicenter.model.count_quantiles)."""
    s = np.asarray(samples, dtype=float)
    q = sample_quantiles(s[:, None], levels, convention)[0]
    below, at_most = np.mean(s < observed), np.mean(s <= observed)
    u = below + rng.uniform() * (at_most - below)
    row = {"mean": float(s.mean()), "pit_value": float(u)}
    for interval in INTERVALS:
        tau = (1 - interval / 100) / 2
        lo, hi = q[levels.index(round(tau, 10))], q[levels.index(round(1 - tau, 10))]
        row[f"cov{interval}"] = float(lo <= observed <= hi)
        row[f"calibrated{interval}"] = float(np.mean((s >= lo) & (s <= hi)))
        row[f"pit{interval}"] = float(tau <= u <= 1 - tau)
    return row


def calibration_backtest(series: dict[str, Incidence], si: np.ndarray, horizons: list[int],
                         min_train: int = 14, seed: int = 1,
                         convention: str = QUANTILE_CONVENTION, **renewal_kwargs) -> pd.DataFrame:
    """One row per (series, origin, horizon) renewal forecast, at the backtest's origins
    (epicenter.model.backtest.origins), with the columns of forecast_calibration."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, inc in series.items():
        y = inc.total
        for o in origins(inc, horizons, min_train):
            usable = [h for h in horizons if o + h <= len(y)]
            paths, _ = simulate_renewal(inc.head(o), si, max(usable), **renewal_kwargs)
            for h in usable:
                rows.append({"series": name, "origin": o, "horizon": h, "observed": y[o + h - 1],
                             **forecast_calibration(paths[:, h - 1], y[o + h - 1], rng,
                                                         convention=convention)})
    return pd.DataFrame(rows)


def summarise_calibration(frame: pd.DataFrame, by_mean: bool = False) -> pd.DataFrame:
    """Mean coverage columns per horizon (and per band of the forecast mean)."""
    keys = ["horizon"]
    if by_mean:
        frame = frame.assign(mean_band=pd.cut(frame["mean"], MEAN_BANDS, include_lowest=True))
        keys.append("mean_band")
    columns = [f"{kind}{i}" for i in INTERVALS for kind in ("cov", "calibrated", "pit")]
    grouped = frame.groupby(keys, observed=True)
    return grouped[columns].mean().assign(n=grouped.size()).reset_index()
