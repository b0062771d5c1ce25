"""Report-ready figure of Rt: incidence above, Rt with its 50% and 95% credible bands below."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from epicenter.model.plotting import save_figure
from epicenter.model.rt import RtEstimate  # noqa: E402


def _axis(est: RtEstimate, index: np.ndarray) -> list:
    """Dates when the series has them, else EpiEstim's 1-based day numbers."""
    if est.incidence.dates is None:
        return list(index + 1)
    return [est.incidence.date_of(int(i)) for i in index]


def plot_rt(est: RtEstimate, path: Path | str, title: str = "Reproduction number") -> Path:
    inc = est.incidence
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 1.4]})
    days = np.arange(len(inc))
    x = _axis(est, days)
    top.bar(x, inc.local, color="#4c72b0", label="local")
    if np.asarray(inc.imported).sum() > 0:
        top.bar(x, inc.imported, bottom=inc.local, color="#dd8452", label="imported")
        top.legend(frameon=False)
    top.set_ylabel("daily cases")
    top.set_title(title)
    ok = est.estimable
    xe = _axis(est, est.t_end.astype(int) - 1)
    xe = [v for v, k in zip(xe, ok, strict=True) if k]
    bottom.fill_between(xe, est.quantile(0.025)[ok], est.quantile(0.975)[ok], color="#55a868",
                        alpha=0.25, label="95% CrI")
    bottom.fill_between(xe, est.quantile(0.25)[ok], est.quantile(0.75)[ok], color="#55a868",
                        alpha=0.45, label="50% CrI")
    bottom.plot(xe, est.mean[ok], color="#2d6a3e", label="posterior mean")
    bottom.axhline(1.0, color="grey", lw=0.8, ls="--")
    # windows starting before 12 cumulative cases (EpiEstim's rule of thumb) can be wildly
    # high; scale the axis to the later ones so that the informative part stays readable
    cumulative = np.cumsum(inc.total)[est.t_start.astype(int) - 2]
    settled = ok & (cumulative >= 12)
    if settled.any() and (~settled & ok).any():
        bottom.set_ylim(0, 1.1 * float(np.nanmax(est.quantile(0.975)[settled])))
    window = int(est.t_end[0] - est.t_start[0] + 1) if len(est.t_end) else 0
    bottom.set_ylabel(f"R (window of {window} d, at its end)")
    bottom.legend(frameon=False, loc="upper right")
    return save_figure(fig, path)
