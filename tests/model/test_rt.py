"""Rt (Cori et al. 2013) must reproduce EpiEstim's own outputs to 1e-8."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from epicenter.model.incidence import Incidence, from_counts, read_incidence
from epicenter.model.rt import RT_QUANTILES, default_windows, estimate_rt, infectiousness
from epicenter.model.serial_interval import discretised_gamma, parametric_si, read_si_distr

EPIESTIM = Path(__file__).resolve().parents[2] / "data" / "reference" / "epiestim"
REF_COLUMNS = {"mean": "Mean(R)", "sd": "Std(R)", "q0.025": "Quantile.0.025(R)",
               "q0.05": "Quantile.0.05(R)", "q0.25": "Quantile.0.25(R)", "q0.5": "Median(R)",
               "q0.75": "Quantile.0.75(R)", "q0.95": "Quantile.0.95(R)",
               "q0.975": "Quantile.0.975(R)"}


def _csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _windows(spec: str) -> np.ndarray:
    lo, hi = (int(v) for v in spec.split(".."))
    return np.arange(lo, hi + 1)


def _example(n: int):
    config = json.loads((EPIESTIM / "ref_examples_config.json").read_text())[f"Example{n}"]
    data = config["data"].split()[0]
    inc = read_incidence(EPIESTIM / data)
    if config["method"] == "non_parametric_si":
        si = read_si_distr(EPIESTIM / config["si_distr"])
    else:
        si = parametric_si(config["mean_si"], config["std_si"], len(inc))
    return config, inc, si


@pytest.mark.parametrize("n", [1, 2, 3])
def test_reproduces_epiestim_examples(n):
    config, inc, si = _example(n)
    est = estimate_rt(inc, si, _windows(config["t_start"]), _windows(config["t_end"]),
                      prior_mean=config["mean_prior"], prior_sd=config["std_prior"])
    table = est.to_table().to_pydict()
    ref = _csv(EPIESTIM / f"ref_Example{n}_R.csv")
    assert len(ref) == len(table["mean"])
    assert table["t_start"] == [int(float(r["t_start"])) for r in ref]
    assert table["t_end"] == [int(float(r["t_end"])) for r in ref]
    for ours, theirs in REF_COLUMNS.items():
        expected = np.array([float(r[theirs]) for r in ref])
        np.testing.assert_allclose(table[ours], expected, rtol=0, atol=1e-8, err_msg=ours)


def test_default_windows_are_epiestims_weekly_windows():
    _, inc, si = _example(1)
    est = estimate_rt(inc, si)
    assert est.t_start[0] == 2 and est.t_start[-1] == 26
    assert est.t_end[0] == 8 and est.t_end[-1] == 32
    start, end = default_windows(10, 3)
    assert list(start) == list(range(2, 9)) and list(end - start) == [2] * 7


@pytest.mark.parametrize("n", [1, 2, 3])
def test_serial_interval_equals_the_one_epiestim_used(n):
    _, inc, si = _example(n)
    used = np.array([float(r["p"]) for r in _csv(EPIESTIM / f"ref_Example{n}_si_distr_used.csv")])
    padded = np.zeros(max(len(used), len(si)))
    padded[: len(si)] = si
    np.testing.assert_allclose(padded[: len(used)], used, rtol=0, atol=1e-12)
    assert not padded[len(used):].any()


def test_discretised_gamma_is_a_distribution_with_the_right_mean():
    w = discretised_gamma(np.arange(200), 6.0, 2.5)
    assert w[0] == 0 and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    # the triangular-kernel discretisation preserves the mean of the offset gamma
    assert (np.arange(200) * w).sum() == pytest.approx(6.0, abs=1e-9)


def test_local_and_imported_cases_enter_numerator_and_infectiousness_differently():
    si = np.array([0.0, 0.5, 0.5])
    inc = Incidence(np.array([0.0, 4, 6, 8, 10]), np.array([2.0, 0, 0, 0, 0]))
    lam = infectiousness(inc.total, si)
    np.testing.assert_allclose(lam, [0, 1, 3, 5, 7])
    est = estimate_rt(inc, si, np.array([2]), np.array([5]), prior_mean=5, prior_sd=5)
    # posterior shape = 1 + 28 local cases; rate = 1/5 + (1 + 3 + 5 + 7)
    assert est.shape[0] == pytest.approx(29.0)
    assert est.mean[0] == pytest.approx(29.0 / (0.2 + 16.0))


def test_first_day_counts_as_imported():
    si = np.array([0.0, 1.0])
    est = estimate_rt(from_counts([3, 6, 12, 24]), si, np.array([2]), np.array([4]))
    # day 1's 3 cases are infectious but not local: R = (1 + 42) / (1/5 + 3 + 6 + 12)
    assert est.mean[0] == pytest.approx(43 / 21.2)


def test_windows_without_infectiousness_are_empty_not_dropped():
    si = np.array([0.0, 1.0])
    inc = from_counts([0, 0, 0, 0, 2, 3, 4, 5])
    est = estimate_rt(inc, si, window=2)
    table = est.to_table().to_pydict()
    assert table["t_start"] == [2, 3, 4, 5, 6, 7]
    assert table["mean"][:3] == [None, None, None]
    assert all(table[f"q{q:g}"][0] is None for q in RT_QUANTILES)
    assert all(v is not None for v in table["mean"][4:])


def test_bad_windows_are_rejected():
    inc = from_counts([1, 2, 3, 4])
    with pytest.raises(ValueError):
        estimate_rt(inc, np.array([0.0, 1.0]), np.array([1]), np.array([3]))
    with pytest.raises(ValueError):
        estimate_rt(inc, np.array([0.0, 1.0]), window=7)


def test_recovers_known_constant_r(simulate):
    si = parametric_si(5.0, 2.0, 80)
    cases = simulate(np.full(80, 1.4), si, 20)
    est = estimate_rt(from_counts(cases), si)
    late = est.mean[-20:]
    assert np.all(np.abs(late - 1.4) < 0.1)
