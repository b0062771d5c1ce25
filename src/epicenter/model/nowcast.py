"""Rt by symptom-onset date, corrected for right truncation of recent onsets.

A case with onset on day t is only known once reported, d days later. At the last report day
T, onsets of day t are therefore incomplete: only a fraction F(T - t) of them has been
reported, F being the CDF of the onset-to-report delay. The correction:

1. Delay distribution: empirical pmf of (report - onset) among cases whose onset is at least
   ``max_delay`` days before T (for them every delay up to max_delay could have been seen, so
   the sample is not truncated); max_delay is the largest delay observed. With fewer than
   ``min_complete`` such cases all cases are used (then delays are biased short; flagged).
2. Nowcast: expected onsets N(t) = observed(t) / F(T - t). Given the observed count and
   Poisson onsets, the unreported remainder is negative binomial NB(observed + 1, F) (a flat
   prior on the total), which gives the nowcast's interval. Days with F(T - t) < ``min_cdf``
   are cut: too little of them is known to say anything.
3. Rt by Cori et al. on the nowcast expected onsets, with the serial interval applying to
   onset-to-onset intervals, as EpiEstim does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.stats import nbinom

from epicenter.model.incidence import Incidence
from epicenter.model.rt import RtEstimate, estimate_rt


@dataclass(frozen=True)
class DelayDistribution:
    pmf: np.ndarray  # P(delay = d days), d = 0..max_delay
    n_cases: int
    truncation_free: bool  # False if too few complete cases forced the use of all cases

    def cdf(self, d: np.ndarray | int) -> np.ndarray:
        c = np.cumsum(self.pmf)
        d = np.asarray(d, dtype=int)
        return np.where(d < 0, 0.0, c[np.minimum(np.maximum(d, 0), len(c) - 1)])

    @property
    def mean(self) -> float:
        return float((np.arange(len(self.pmf)) * self.pmf).sum())


Pairs = list[tuple[dt.date, dt.date, int]]  # (onset, report, count)


def estimate_delay(pairs: Pairs, last_report: dt.date, min_complete: int = 30) -> DelayDistribution:
    delays = np.array([(r - o).days for o, r, _ in pairs])
    counts = np.array([n for _, _, n in pairs], dtype=float)
    keep = delays >= 0  # a report before onset is a data error, not a delay
    delays, counts = delays[keep], counts[keep]
    onsets = np.array([o for (o, _, _), k in zip(pairs, keep, strict=True) if k])
    if counts.sum() == 0:
        raise ValueError("no case with both an onset and a report date")
    max_delay = int(delays.max())
    complete = np.array([(last_report - o).days >= max_delay for o in onsets])
    truncation_free = counts[complete].sum() >= min_complete
    use = complete if truncation_free else np.ones_like(complete)
    pmf = np.bincount(delays[use], weights=counts[use], minlength=max_delay + 1)
    return DelayDistribution(pmf / pmf.sum(), int(counts[use].sum()), bool(truncation_free))


@dataclass(frozen=True)
class Nowcast:
    dates: list[dt.date]
    observed: np.ndarray
    expected: np.ndarray
    lower: np.ndarray  # 95% interval of the total onsets
    upper: np.ndarray
    reported_fraction: np.ndarray

    def incidence(self) -> Incidence:
        return Incidence(self.expected, np.zeros_like(self.expected), self.dates)

    def to_table(self) -> pa.Table:
        return pa.table({"onset_date": self.dates, "observed": self.observed,
                         "reported_fraction": self.reported_fraction, "expected": self.expected,
                         "lower": self.lower, "upper": self.upper})


def nowcast_onsets(pairs: Pairs, delay: DelayDistribution, last_report: dt.date,
                   min_cdf: float = 0.2) -> Nowcast:
    onsets = [o for o, r, _ in pairs if r <= last_report]
    start = min(onsets)
    n = (last_report - start).days + 1
    observed = np.zeros(n)
    for o, r, c in pairs:
        if r <= last_report and o >= start:
            observed[(o - start).days] += c
    frac = delay.cdf(np.arange(n)[::-1])  # day t has been observable for T - t days
    keep = frac >= min_cdf
    last = int(np.flatnonzero(keep).max()) + 1 if keep.any() else 0
    observed, frac = observed[:last], frac[:last]
    expected = observed / frac
    # unreported remainder ~ NB(observed + 1, frac): 95% interval of observed + remainder
    lower = observed + nbinom.ppf(0.025, observed + 1, frac)
    upper = observed + nbinom.ppf(0.975, observed + 1, frac)
    dates = [start + dt.timedelta(days=i) for i in range(last)]
    return Nowcast(dates, observed, expected, lower, upper, frac)


def rt_by_onset(pairs: Pairs, si: np.ndarray, last_report: dt.date | None = None,
                window: int = 7, prior_mean: float = 5.0, prior_sd: float = 5.0,
                min_cdf: float = 0.2) -> tuple[RtEstimate, Nowcast, DelayDistribution]:
    """Rt by onset date on truncation-corrected onsets (see module docstring)."""
    if last_report is None:
        last_report = max(r for _, r, _ in pairs)
    delay = estimate_delay(pairs, last_report)
    now = nowcast_onsets(pairs, delay, last_report, min_cdf)
    est = estimate_rt(now.incidence(), si, window=window, prior_mean=prior_mean,
                      prior_sd=prior_sd)
    return est, now, delay
