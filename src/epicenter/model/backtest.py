"""Rolling-origin backtests: forecast from every origin, score against what happened.

At each origin o (days 1..o observed) every model forecasts the next days; the forecast for
day o + h is scored against the observed count with the weighted interval score and the 50%
and 90% interval coverage. Origins start after ``min_train`` days and need at least one case
in the week before the origin (no forecaster is asked about a series that has not started).
The summary averages per model and horizon and gives each model's mean WIS relative to each
baseline on the same forecasts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from epicenter.model.baselines import loglinear_forecast, persistence_forecast
from epicenter.model.forecast import QuantileForecast, renewal_forecast
from epicenter.model.incidence import Incidence
from epicenter.model.scoring import HUB_QUANTILES, score

Forecaster = Callable[[Incidence, int], QuantileForecast]
BASELINES = ("persistence", "loglinear")


def default_models(si: np.ndarray, **renewal_kwargs) -> dict[str, Forecaster]:
    return {
        "renewal": lambda inc, h: renewal_forecast(inc, si, h, **renewal_kwargs),
        "persistence": lambda inc, h: persistence_forecast(inc, h),
        "loglinear": lambda inc, h: loglinear_forecast(inc, h),
    }


def origins(incidence: Incidence, horizons: list[int], min_train: int = 14) -> list[int]:
    y = incidence.total
    return [o for o in range(min_train, len(y) - min(horizons) + 1) if y[max(0, o - 7):o].sum() > 0]


def rolling_origin(series: dict[str, Incidence], models: dict[str, Forecaster],
                   horizons: list[int], min_train: int = 14) -> pd.DataFrame:
    """One row per (series, origin, horizon, model) with the scores of that forecast."""
    records = []
    for name, inc in series.items():
        y = inc.total
        for o in origins(inc, horizons, min_train):
            usable = [h for h in horizons if o + h <= len(y)]
            train = inc.head(o)
            for model, forecaster in models.items():
                fc = forecaster(train, max(usable))
                for h in usable:
                    records.append({"series": name, "origin": o, "horizon": h, "model": model,
                                    "observed": y[o + h - 1], "q": fc.quantiles[h - 1]})
    if not records:
        raise ValueError("no forecast origin: series too short or without cases")
    frame = pd.DataFrame(records)
    scores = score(frame["observed"].to_numpy(float), np.vstack(frame.pop("q").to_numpy()),
                   HUB_QUANTILES)
    for key, values in scores.items():
        frame[key] = values
    return frame


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per model and horizon, and relative WIS against each baseline."""
    summary = (scores.groupby(["horizon", "model"], as_index=False)
               .agg(n=("wis", "size"), wis=("wis", "mean"), dispersion=("dispersion", "mean"),
                    overprediction=("overprediction", "mean"),
                    underprediction=("underprediction", "mean"), ae_median=("ae_median", "mean"),
                    cov50=("cov50", "mean"), cov90=("cov90", "mean")))
    for base in BASELINES:
        if base in set(summary["model"]):
            ref = summary[summary["model"] == base].set_index("horizon")["wis"]
            summary[f"rel_wis_{base}"] = summary["wis"] / summary["horizon"].map(ref)
    return summary.sort_values(["horizon", "wis"]).reset_index(drop=True)


# the priors of the renewal forecast; the weights of the series' own evidence stay at their
# defaults (they matter only for long series, docs/forecast.md)
RENEWAL_GRID = {"damping": (0.5, 0.6, 0.7), "damping_below": (0.8, 1.0),
                "drift_sd": (0.3, 0.4, 0.5), "phi_prior": (0.1, 0.3)}
COVERAGE_GOAL = {"cov50": 0.5, "cov90": 0.9}
COVERAGE_TOLERANCE = 0.10


def coverage_miss(scores: pd.DataFrame) -> float:
    """The largest distance of 50% or 90% coverage from nominal over the horizons."""
    by_h = scores.groupby("horizon")[list(COVERAGE_GOAL)].mean()
    return float(max((by_h[c] - goal).abs().max() for c, goal in COVERAGE_GOAL.items()))


def meets_coverage(scores: pd.DataFrame, tolerance: float = COVERAGE_TOLERANCE) -> bool:
    """True if 50% and 90% coverage are within ``tolerance`` of nominal at every horizon."""
    return coverage_miss(scores) <= tolerance + 1e-12


def tune_renewal(series: dict[str, Incidence], si: np.ndarray, horizons: list[int],
                 grid: dict[str, tuple[float, ...]] = RENEWAL_GRID, min_train: int = 14,
                 n_samples: int = 400) -> tuple[dict[str, float], pd.DataFrame]:
    """The renewal settings with the lowest mean WIS (over all horizons) on these series
    among those whose coverage meets the goal at every horizon; if none does, the one whose
    largest coverage miss is smallest. WIS alone favours intervals that are too narrow when
    the model's centre is off, so the coverage goal is part of the choice, as it is of the
    product's goals."""
    rows = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        models = {"renewal": lambda inc, h, p=params: renewal_forecast(
            inc, si, h, n_samples=n_samples, **p)}
        scores = rolling_origin(series, models, horizons, min_train)
        miss = coverage_miss(scores)
        rows.append({**params, "wis": scores["wis"].mean(), "cov50": scores["cov50"].mean(),
                     "cov90": scores["cov90"].mean(), "coverage_miss": miss,
                     "meets_coverage": miss <= COVERAGE_TOLERANCE + 1e-12})
    table = pd.DataFrame(rows)
    if table["meets_coverage"].any():
        pool = table[table["meets_coverage"]]
    else:
        pool = table[table["coverage_miss"] == table["coverage_miss"].min()]
    best = pool.loc[pool["wis"].idxmin(), list(grid)].astype(float).to_dict()
    return best, table


def cross_validated(series: dict[str, Incidence], si: np.ndarray, horizons: list[int],
                    folds: int = 2, grid: dict[str, tuple[float, ...]] = RENEWAL_GRID,
                    min_train: int = 14) -> tuple[pd.DataFrame, list[dict]]:
    """Backtest where the renewal settings for each series are tuned on the other series.

    Series are dealt to ``folds`` folds in turn (by their order, e.g. by size); each fold is
    forecast with settings tuned on the remaining folds, so no series scores a model tuned on
    itself. Returns the scores and the settings chosen per fold.
    """
    if folds < 2 or folds > len(series):
        raise ValueError("cross-validation needs 2 <= folds <= number of series")
    names = list(series)
    frames, chosen = [], []
    for k in range(folds):
        held = {n: series[n] for i, n in enumerate(names) if i % folds == k}
        rest = {n: series[n] for i, n in enumerate(names) if i % folds != k}
        params, _ = tune_renewal(rest, si, horizons, grid, min_train)
        chosen.append({"fold": k, "series": len(held), **params})
        frames.append(rolling_origin(held, default_models(si, **params), horizons, min_train))
    return pd.concat(frames, ignore_index=True), chosen
