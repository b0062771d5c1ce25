"""Rt by onset date: the right-truncation nowcast removes the bias of recent onsets."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from epicenter.model.incidence import Incidence
from epicenter.model.nowcast import estimate_delay, nowcast_onsets, rt_by_onset
from epicenter.model.rt import estimate_rt
from epicenter.model.serial_interval import parametric_si

START = dt.date(2020, 1, 1)
DAYS = 70
R_TRUE = np.where(np.arange(DAYS) < 40, 1.5, 0.85)


@pytest.fixture(scope="module")
def line_list(simulate):
    """Onsets from a renewal epidemic with known Rt; each reported after a random delay."""
    si = parametric_si(5.0, 2.0, 150)
    onsets = simulate(R_TRUE, si, 40, seed=21)
    rng = np.random.default_rng(5)
    pairs: dict[tuple[dt.date, dt.date], int] = {}
    for day, n in enumerate(onsets.astype(int)):
        delays = rng.negative_binomial(3, 3 / (3 + 5.0), n)  # mean 5 days, overdispersed
        for d in delays:
            key = (START + dt.timedelta(days=day), START + dt.timedelta(days=day + int(d)))
            pairs[key] = pairs.get(key, 0) + 1
    last_report = START + dt.timedelta(days=DAYS - 1)
    observed = [(o, r, n) for (o, r), n in sorted(pairs.items()) if r <= last_report]
    return observed, onsets, si, last_report


def test_delay_distribution_is_estimated_without_truncation_bias(line_list):
    pairs, _, _, last_report = line_list
    delay = estimate_delay(pairs, last_report)
    assert delay.truncation_free
    assert delay.mean == pytest.approx(5.0, abs=0.3)


def test_nowcast_restores_recent_onsets(line_list):
    pairs, onsets, _, last_report = line_list
    now = nowcast_onsets(pairs, estimate_delay(pairs, last_report), last_report)
    n = len(now.dates)
    assert n < DAYS  # the most recent days, barely reported, are cut
    recent = slice(n - 7, n)
    truth = onsets[recent]
    assert now.observed[recent].sum() < 0.8 * truth.sum()  # truncation is real
    assert now.expected[recent].sum() == pytest.approx(truth.sum(), rel=0.1)
    inside = (now.lower[recent] <= truth) & (truth <= now.upper[recent])
    assert inside.mean() >= 5 / 7


def test_rt_by_onset_recovers_the_known_rt_where_naive_estimate_fails(line_list):
    pairs, _, si, last_report = line_list
    est, now, _ = rt_by_onset(pairs, si, last_report)
    last_day = len(now.dates) - 1
    assert est.t_end[-1] == last_day + 1
    assert est.mean[-1] == pytest.approx(R_TRUE[last_day], abs=0.12)
    assert est.mean[25] == pytest.approx(1.5, abs=0.12)  # window 27..33, before the change
    naive = estimate_rt(Incidence(now.observed, np.zeros(len(now.observed)), now.dates), si)
    assert naive.mean[-1] < R_TRUE[last_day] - 0.25  # what the correction prevents
