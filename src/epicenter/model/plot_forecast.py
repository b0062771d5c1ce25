"""Report-ready figure of a quantile forecast: observed history, median, 50% and 90% bands."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from epicenter.model.forecast import QuantileForecast  # noqa: E402
from epicenter.model.incidence import Incidence  # noqa: E402
from epicenter.model.plotting import save_figure


def plot_forecast(incidence: Incidence, forecasts: list[QuantileForecast], path: Path | str,
                  title: str = "Forecast of daily cases", history: int = 42,
                  truth: Incidence | None = None) -> Path:
    """Draw the last ``history`` observed days and each forecast's bands; ``truth`` (the full
    series, e.g. in a backtest) is drawn as points over the forecast period."""
    n = len(incidence)
    start = max(0, n - history)

    def axis(index: np.ndarray) -> list:
        if incidence.dates is None:
            return list(index + 1)
        return [incidence.date_of(int(i)) for i in index]

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.bar(axis(np.arange(start, n)), incidence.total[start:], color="#b0b0b0", label="observed")
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for fc, colour in zip(forecasts, colours, strict=False):
        days = axis(np.arange(n, n + fc.horizon))
        levels = list(fc.levels)
        q = fc.quantiles
        ax.fill_between(days, q[:, levels.index(0.05)], q[:, levels.index(0.95)], color=colour,
                        alpha=0.2, label=f"{fc.model} 90%")
        ax.fill_between(days, q[:, levels.index(0.25)], q[:, levels.index(0.75)], color=colour,
                        alpha=0.4, label=f"{fc.model} 50%")
        ax.plot(days, fc.median, color=colour, label=f"{fc.model} median")
    if truth is not None and len(truth) > n:
        later = np.arange(n, len(truth))
        ax.scatter(axis(later), truth.total[n:], color="black", s=12, zorder=3, label="later data")
    ax.set_ylabel("daily cases")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return save_figure(fig, path)
