"""Figures for scenario comparisons and calibrations (matplotlib, Agg backend, PNG or SVG)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from epicenter.model.plotting import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _human_number(value: float, _pos: int | None = None) -> str:
    """Tick labels like 250k or 1.5M instead of a detached 1e6 offset."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_human_number)


def _axis(start: dt.date | None, days: int) -> list:
    if start is None:
        return list(range(days))
    return [start + dt.timedelta(days=i) for i in range(days)]


def plot_scenarios(results: Sequence, path: Path | str, title: str = "",
                   series: str = "infections", log: bool = False) -> Path:
    """Daily new infections (or reported cases) per scenario: median with 50% and 90% bands,
    and a bar panel of total infections (median, 90% interval)."""
    plt = _pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [2.2, 1]})
    colours = plt.get_cmap("tab10")
    for i, r in enumerate(results):
        q = r.bands(series)
        x = _axis(r.start, q.shape[1])
        c = colours(i % 10)
        ax.fill_between(x, q[0], q[4], color=c, alpha=0.15, linewidth=0)
        ax.fill_between(x, q[1], q[3], color=c, alpha=0.3, linewidth=0)
        ax.plot(x, q[2], color=c, label=r.name, linewidth=1.8)
    ax.set_ylabel("new infections per day" if series == "infections" else "reported cases per day")
    ax.set_xlabel("date" if results and results[0].start else "day")
    if log:  # controlled and uncontrolled scenarios differ by orders of magnitude
        ax.set_yscale("log")
        ax.set_ylim(bottom=1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right" if not log else "lower right")
    ax.set_title("median, 50% and 90% bands")
    if results and results[0].start:
        fig.autofmt_xdate()
    totals = [getattr(r, series).sum(axis=1) for r in results]
    mid = [np.median(t) for t in totals]
    err = np.array([[m - np.quantile(t, 0.05) for m, t in zip(mid, totals, strict=True)],
                    [np.quantile(t, 0.95) - m for m, t in zip(mid, totals, strict=True)]])
    y = np.arange(len(results))
    bx.barh(y, mid, xerr=err, color=[colours(i % 10) for i in y], alpha=0.8, capsize=3)
    bx.set_yticks(y, [r.name for r in results], fontsize=8)
    bx.invert_yaxis()
    bx.set_xlabel(f"total {series} (median, 90% interval)")
    if log:
        bx.set_xscale("log")
    bx.xaxis.set_major_formatter(_formatter())
    ax.yaxis.set_major_formatter(_formatter())
    bx.grid(alpha=0.3, axis="x")
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def plot_fit(dates: Sequence, observed: np.ndarray, expected: np.ndarray, path: Path | str,
             title: str = "", counts: np.ndarray | None = None) -> Path:
    """Observed daily cases against the posterior of the expected count (50% and 90% bands,
    parameter uncertainty) and, if given, the 90% posterior predictive interval of counts."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    days = expected.shape[1]
    x = list(dates)[:days] if len(dates) >= days else _axis(dates[0], days)
    if counts is not None:
        lo, hi = np.quantile(counts, [0.05, 0.95], axis=0)
        ax.fill_between(x, lo, hi, color="tab:orange", alpha=0.15,
                        label="90% predictive interval (counts)")
    q = np.quantile(expected, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(x, q[0], q[4], color="tab:blue", alpha=0.2, label="expected: 90% band")
    ax.fill_between(x, q[1], q[3], color="tab:blue", alpha=0.35, label="expected: 50% band")
    ax.plot(x, q[2], color="tab:blue", label="expected: posterior median")
    ax.plot(list(dates)[: len(observed)], observed, "o", color="black", ms=3, label="observed")
    ax.set_ylabel("cases per day")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return save_figure(fig, path, dpi=130)
